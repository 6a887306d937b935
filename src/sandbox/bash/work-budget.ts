/**
 * Work limits in proportion to a call's timeout.
 *
 * Why: in a Worker the clock stands still during pure computation, so just-bash's wall-clock
 * deadline never fires inside a busy loop; only counted work stops it. A fixed budget would be
 * wrong both ways: far more than a 1 s call asked for, or too little for a 10-minute build. So
 * each call gets the work that fits in its timeout at the slowest rates measured for each kind
 * (`npm run bench` prints them): a loop doing heavy arithmetic each iteration is stopped about
 * when the timeout would have stopped it, lighter work sooner. The budget never exceeds what fits
 * in the Worker's CPU limit (wrangler.toml `[limits] cpu_ms`), so a command is stopped by us with
 * a clear message before the platform would cut the whole call off.
 *
 * Every limit here stands for time: when one of them stops a command, the agent is told the same
 * as for the timeout (run-failure.ts), whichever noticed first.
 */
import type { BashOptions } from "just-bash";

type ExecutionLimits = NonNullable<BashOptions["executionLimits"]>;

/** The Worker's CPU limit per request (wrangler.toml `[limits] cpu_ms`): the most any call may use. */
export const CPU_LIMIT_MS = 300_000;

/** Work per second of timeout, at the slowest measured pace (bench/sandbox-cpu.bench.ts). */
export const WORK_PER_SECOND = {
  /** Shell commands, and iterations of shell loops (every iteration runs at least one command). */
  commands: 10_000,
  /** awk loop iterations. */
  awk: 100_000,
  /** sed commands executed (branch loops). */
  sed: 100_000,
  /** jq evaluation steps. */
  jq: 1_000_000,
} as const;

/** However short the timeout, a call may do at least this much (a second's worth of work). */
const MIN_BUDGET_MS = 1_000;
/** Leave the platform's cut for faults: counted work stops at most at this share of the CPU limit. */
const MAX_BUDGET_MS = CPU_LIMIT_MS / 2;

/** The time-like limits for a call with this timeout. */
export function workLimits(timeoutMs: number): ExecutionLimits {
  const seconds = Math.min(Math.max(timeoutMs, MIN_BUDGET_MS), MAX_BUDGET_MS) / 1000;
  const count = (perSecond: number) => Math.ceil(perSecond * seconds);
  const commands = count(WORK_PER_SECOND.commands);
  return {
    maxCommandCount: commands,
    maxLoopIterations: commands,
    maxAwkIterations: count(WORK_PER_SECOND.awk),
    maxSedIterations: count(WORK_PER_SECOND.sed),
    maxJqIterations: count(WORK_PER_SECOND.jq),
  };
}

/**
 * The messages just-bash stops a command with when a limit from `workLimits` is reached (commands,
 * shell/awk/sed/jq loops, its aggregate work units). Other limits (output size, string length,
 * call depth) are about space, not time, and are reported as limits.
 */
export const WORK_LIMIT_MESSAGE =
  /too many commands executed|loop: too many iterations|loop exceeded maximum iterations|command execution exceeded maximum iterations|too many iterations|work limit exceeded/;

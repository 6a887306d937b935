/**
 * Tells apart the ways just-bash stops a command before it ends on its own:
 *
 *  - out of time: our AbortSignal or its wall-clock deadline (exit 124, "execution aborted" /
 *    "exceeded (its) execution deadline", or simply the time being up), or one of the work limits
 *    scaled to the timeout (work-budget.ts: commands, loop iterations, awk/sed/jq steps). Those
 *    stand for time where the clock does not advance during pure computation (a Worker), and
 *    which of the two notices first depends on the machine's speed, so both are reported in one
 *    wording: the agent learns the same thing, and may retry with a larger timeout_ms;
 *  - an execution limit about space (output, string length, call depth: exit 126 and a message
 *    naming the limit).
 *
 * When the script ran to its end, only a last command stopped by its work budget counts (awk, sed
 * and jq stop alone and the shell goes on, as `awk 'BEGIN{for(;;)x++}'` does), so a user's own
 * `exit 124` or `timeout 1 …` is not taken for a stop.
 */
import { WORK_LIMIT_MESSAGE } from "./work-budget.ts";

export interface RunFailure {
  kind: "timeout" | "limit";
  message: string;
}

const TIMEOUT_MESSAGE = /execution aborted|exceeded (its )?execution deadline/;
const LIMIT_MESSAGE = /limit|too many|maximum|exceeded/i;

export function classifyFailure(
  result: { stderr: string; exitCode: number },
  time: { aborted: boolean; elapsedMs: number; timeoutMs: number },
  /** The script reached its end (the state carrier's epilogue ran). */
  finished: boolean,
): RunFailure | undefined {
  const { timeoutMs } = time;
  const lastLine = result.stderr.trimEnd().split("\n").at(-1) ?? "";
  if (finished) {
    const outOfWork = result.exitCode === 126 && WORK_LIMIT_MESSAGE.test(lastLine);
    return outOfWork ? { kind: "timeout", message: timeoutMessage(timeoutMs) } : undefined;
  }
  const deadline = result.exitCode === 124 && (TIMEOUT_MESSAGE.test(lastLine) || time.elapsedMs >= timeoutMs);
  const outOfWork = result.exitCode === 126 && WORK_LIMIT_MESSAGE.test(lastLine);
  if (time.aborted || deadline || outOfWork) return { kind: "timeout", message: timeoutMessage(timeoutMs) };
  if (result.exitCode === 126 && LIMIT_MESSAGE.test(lastLine)) {
    return {
      kind: "limit",
      message: `limit: the command was stopped by an execution limit (${lastLine.replace(/^bash: /, "")})`,
    };
  }
  return undefined;
}

/** One wording for every stop that stands for time (see above). */
export function timeoutMessage(timeoutMs: number): string {
  return (
    `timeout: the command was stopped at its ${formatDuration(timeoutMs)} timeout ` +
    "(the time, or the work budgeted for that time, ran out; a larger timeout_ms allows more)"
  );
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * stderr without just-bash's own lines about the stop (their wording differs by which limit fired,
 * and names its internal options), when the failure message says it instead. Every such line
 * goes, not only the last: awk can be stopped by its budget and the shell by the deadline right
 * after, depending on the machine's speed.
 */
export function withoutStopLine(stderr: string, failure: RunFailure | undefined): string {
  if (failure?.kind !== "timeout") return stderr;
  const lines = stderr.split("\n");
  const kept = lines.filter(
    (line) => !(/^[a-z0-9_-]+: /.test(line) && (TIMEOUT_MESSAGE.test(line) || WORK_LIMIT_MESSAGE.test(line))),
  );
  return kept.length === lines.length ? stderr : kept.join("\n");
}

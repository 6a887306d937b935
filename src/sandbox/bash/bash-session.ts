/**
 * A persistent shell session over any just-bash filesystem: `cd`, exported variables and functions
 * carry from one call to the next (see state-carrier.ts), and survive eviction through the state
 * store; `restart` starts over. Each call gets a fresh interpreter with its own limits:
 *
 *  - time: just-bash's wall-clock deadline (maxExecutionTimeMs), checked at every statement and
 *    inside waits such as `sleep`, plus an AbortSignal where commands can wait on the network;
 *  - work: command and loop limits in proportion to the timeout (work-budget.ts), which stop
 *    `while true; do :; done` even where the clock does not advance during pure computation, as
 *    in a Worker; both stops are reported in one wording (run-failure.ts);
 *  - output: the first 100 KiB (stdout and stderr together) with a truncation marker.
 *
 * just-bash returns output when the command ends, so `onOutput` gets one chunk per stream then.
 * Calls are serialised: one command runs at a time, in arrival order.
 *
 * Lifecycle: create one per sandbox (per Durable Object wake); the store holds everything needed
 * to continue after eviction.
 */

import { Bash, type BashOptions, type CustomCommand, type IFileSystem } from "just-bash";
import { SerialQueue } from "../serial-queue.ts";
import { GNU_COMMANDS } from "./commands/gnu-commands.ts";
import { withLargeFileCommands } from "./large-files/stream-commands.ts";
import { capOutput, DEFAULT_OUTPUT_CAP } from "./output-cap.ts";
import { classifyFailure, type RunFailure, withoutStopLine } from "./run-failure.ts";
import {
  adoptShellState,
  fitShellState,
  initialShellState,
  type ShellState,
  type ShellStateStore,
} from "./shell-state.ts";
import { StateCarrier, stripHiddenTrace } from "./state-carrier.ts";
import { workLimits } from "./work-budget.ts";

type ExecutionLimits = NonNullable<BashOptions["executionLimits"]>;

export const DEFAULT_CWD = "/workspace";
export const DEFAULT_TIMEOUT_MS = 120_000;
export const MAX_TIMEOUT_MS = 600_000;

/**
 * Limits over just-bash's defaults that do not depend on the timeout: 32 MiB through a pipe
 * (output is held in memory, and a Durable Object has 128 MB). The work limits (commands, loops,
 * awk/sed/jq steps) are set per call from its timeout: see work-budget.ts.
 */
export const DEFAULT_LIMITS: ExecutionLimits = {
  maxOutputSize: 32 * 1024 * 1024,
};

export interface BashSessionOptions {
  /** Start directory (and where `restart` returns). Default /workspace. */
  cwd?: string;
  /** Exported variables a fresh shell starts with (HOME defaults to the start directory). */
  env?: Record<string, string>;
  /** Per-call timeout when the call names none. Default 120 s. */
  defaultTimeoutMs?: number;
  /** Output budget per call, stdout and stderr together. Default 100 KiB. */
  outputCapBytes?: number;
  /** Overrides of DEFAULT_LIMITS and of the work limits (maxExecutionTimeMs is set from each call's timeout). */
  executionLimits?: ExecutionLimits;
  customCommands?: CustomCommand[];
  /** Other just-bash options (network, fetch, …). */
  bash?: Omit<BashOptions, "fs" | "cwd" | "env" | "executionLimits" | "customCommands">;
}

export interface BashRunInput {
  /** The command line; empty when the call only restarts the shell. */
  command: string;
  /** Start from a fresh shell (cwd, variables and functions reset) before running `command`. */
  restart?: boolean;
  /** Wall-clock limit for this call; the session's default applies when absent. */
  timeout_ms?: number;
  /** Stops the command at its next statement (and a `sleep` at once), reported as a timeout. */
  signal?: AbortSignal;
  /** The whole output, not capped at the session's budget (up to the 32 MiB pipe limit): the caller bounds it. */
  uncapped?: boolean;
}

export interface BashRunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** True when stdout or stderr was cut at the session's output cap (the cut stream carries a marker). */
  truncated: boolean;
  /** Set when the command could not run to completion: stopped by the timeout or an execution limit. */
  failure?: RunFailure;
}

export type OutputStream = "stdout" | "stderr";

/** Receives output chunks as a command (or any tool) produces them, so callers can stream them before the result. */
export type OutputListener = (stream: OutputStream, text: string) => void;

/** Shell state for inspection: names only, never values. */
export interface ShellDescription {
  cwd: string;
  variableNames: string[];
  functionNames: string[];
}

export class BashSession {
  private readonly fs: IFileSystem;
  private readonly store: ShellStateStore;
  private readonly options: BashSessionOptions;
  /** One command at a time, in arrival order. */
  private readonly queue = new SerialQueue();

  constructor(fs: IFileSystem, store: ShellStateStore, options: BashSessionOptions = {}) {
    this.fs = fs;
    this.store = store;
    this.options = options;
  }

  run(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult> {
    return this.queue.run(() => this.runNow(input, onOutput));
  }

  /** Forgets the shell state (the next call starts fresh). */
  restart(): void {
    this.store.save(this.initialState());
  }

  describe(): ShellDescription {
    const state = adoptShellState(this.state()).state;
    return {
      cwd: state.cwd,
      variableNames: Object.keys(state.env).sort(),
      functionNames: Object.keys(state.functions).sort(),
    };
  }

  private state(): ShellState {
    return this.store.load() ?? this.initialState();
  }

  private initialState(): ShellState {
    const cwd = this.options.cwd ?? DEFAULT_CWD;
    return initialShellState(cwd, { HOME: cwd, ...this.options.env });
  }

  private async runNow(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult> {
    if (input.restart) this.restart();
    if (input.command.trim() === "") return { stdout: "", stderr: "", exitCode: 0, truncated: false };
    const adopted = adoptShellState(this.state());
    const state = adopted.state;
    const cwd = await this.usableCwd(state.cwd);
    const timeoutMs = Math.min(
      Math.max(1, input.timeout_ms ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS),
      MAX_TIMEOUT_MS,
    );
    const carrier = new StateCarrier({ functions: state.functions, lastExitCode: state.lastExitCode });
    const bash = new Bash({
      ...this.options.bash,
      fs: this.fs,
      cwd,
      env: { ...state.env, PWD: cwd },
      executionLimits: {
        ...DEFAULT_LIMITS,
        ...workLimits(timeoutMs),
        ...this.options.executionLimits,
        maxExecutionTimeMs: timeoutMs,
      },
      customCommands: withLargeFileCommands(this.fs, [
        ...GNU_COMMANDS,
        ...(this.options.customCommands ?? []),
        ...carrier.commands,
      ]),
    });
    bash.registerTransformPlugin(carrier.plugin);

    // The deadline (maxExecutionTimeMs above) stops a command at its next statement and ends a
    // `sleep` on time. An AbortSignal does the same at a measured ~1 ms per call in workerd, so it
    // is only added where a command can wait on the network, to cancel a fetch in flight, or where
    // the caller may stop the command (input.signal).
    const external = input.signal;
    const controller =
      external || this.options.bash?.network || this.options.bash?.fetch ? new AbortController() : undefined;
    const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
    const stop = () => controller?.abort();
    if (external?.aborted) stop();
    external?.addEventListener("abort", stop, { once: true });
    const started = Date.now();
    let result: { stdout: string; stderr: string; exitCode: number };
    try {
      const oldpwd = state.env.OLDPWD;
      result = await bash.exec(input.command, {
        rawScript: true,
        ...(controller ? { signal: controller.signal } : {}),
        ...(oldpwd ? { env: { OLDPWD: oldpwd } } : {}),
      });
    } catch (error) {
      // just-bash turns script errors into exit statuses; what reaches here is a fault below it.
      result = { stdout: "", stderr: `bash: ${error instanceof Error ? error.message : String(error)}\n`, exitCode: 1 };
    } finally {
      clearTimeout(timer);
      external?.removeEventListener("abort", stop);
    }
    // An EXIT trap set by a script that ended early (`exit`, `set -e`) runs now, as bash runs it.
    const exitTrap = carrier.traps.takeExit();
    if (exitTrap !== undefined) {
      // `$?` in the handler is the script's exit status, as in bash.
      const script = `(exit ${result.exitCode})\n${exitTrap}`;
      const trapped = await bash.exec(script, { rawScript: true }).catch(() => ({ stdout: "", stderr: "" }));
      result = { ...result, stdout: result.stdout + trapped.stdout, stderr: result.stderr + trapped.stderr };
    }

    const captured = carrier.captured;
    const notes: string[] = adopted.note ? [adopted.note] : [];
    let exitCode = result.exitCode;
    if (captured) {
      exitCode = captured.empty ? 0 : captured.exitCode;
      const { kept, unknown } = carrier.functions();
      for (const name of unknown)
        notes.push(`note: function ${name} came from eval or source and is not kept for the next command`);
      const fitted = fitShellState({
        ...state,
        cwd: captured.cwd,
        env: captured.env,
        functions: kept,
        lastExitCode: exitCode,
      });
      if (fitted.dropped !== "nothing")
        notes.push(`note: shell state is too large; ${fitted.dropped} not kept for the next command`);
      this.store.save(fitted.state);
    } else {
      this.store.save({ ...state, lastExitCode: exitCode });
    }

    const failure = classifyFailure(
      { stderr: result.stderr, exitCode },
      { aborted: controller?.signal.aborted ?? false, elapsedMs: Date.now() - started, timeoutMs },
      captured !== null,
    );
    const stderr =
      withoutStopLine(stripHiddenTrace(result.stderr), failure) + notes.map((note) => `${note}\n`).join("");
    const cap = input.uncapped ? Number.POSITIVE_INFINITY : (this.options.outputCapBytes ?? DEFAULT_OUTPUT_CAP);
    const output = capOutput(result.stdout, stderr, cap);
    if (onOutput) {
      if (output.stdout) onOutput("stdout", output.stdout);
      if (output.stderr) onOutput("stderr", output.stderr);
    }
    return { ...output, exitCode, ...(failure ? { failure } : {}) };
  }

  /** The saved directory, or the start directory when it has gone (or `/` when that has too). */
  private async usableCwd(cwd: string): Promise<string> {
    for (const candidate of [cwd, this.options.cwd ?? DEFAULT_CWD]) {
      try {
        if ((await this.fs.stat(candidate)).isDirectory) return candidate;
      } catch {
        // gone: try the next
      }
    }
    return "/";
  }
}

/**
 * A sandbox's persistent shell on the executor's machine: one real bash process, started on the
 * first call, in which every command runs in turn, so `cd`, variables, functions, aliases, `set`
 * options, traps and background jobs carry over as they do in a terminal.
 *
 * Usage (the executor wires it into the tools' ToolContext as `bash`):
 *
 *   const bash = openShell({ workspace, config, sandboxEnv });   // ProcessOptions, sandbox-launch.ts
 *   await bash.run({ command: "make test", timeout_ms: 60_000 }, (stream, text) => …);
 *   await bash.close();                                          // kills the shell and its children
 *
 * Framing. The shell runs a small driver loop (DRIVER) that reads each command from fd 3 as one
 * line of `\xHH` escapes (so no command text can end the line early), `eval`s it with stdin at
 * /dev/null and the driver's fds closed (a command reading stdin gets end of file; none can read
 * the control pipe; an `exec 3>&-` inside is undone when the eval returns), then reads a per-command random mark from fd 3 — sent after the command, never
 * held in a variable while the command runs, so no command can print it — and writes it to
 * stdout and stderr (the end of the command's output there) and with the exit status to fd 4.
 * The command is done when all three have arrived.
 *
 * Stops. The timeout (default 120 s, at most 600 s), `input.signal` and `close()` kill the shell
 * with everything it started (sandbox-launch.ts says how that reaches `setsid` children too) and
 * report the edge's timeout failure; the next call starts a fresh shell, as after `restart: true`
 * or a shell that exited by itself (`exit 3` reports exit code 3).
 *
 * Where it differs from `bash -c` per call (and from the edge's BashSession, which re-creates the
 * shell per call): it is one process, so `set -e` and `set -u` persist, an EXIT trap fires when
 * the shell ends rather than after each command, and background jobs keep running between calls
 * (their output between commands is dropped). Commands run one `eval` deep, so xtrace marks them
 * `++` as bash does inside any eval. The shell must be bash-compatible (the driver uses
 * `read -u`, `printf -v`).
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${…} is expansion.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from "../../../sandbox/bash/bash-session.ts";
import { timeoutMessage } from "../../../sandbox/bash/run-failure.ts";
import { SerialQueue } from "../../../sandbox/serial-queue.ts";
import type { BashRunInput, BashRunner, BashRunResult, OutputListener } from "../../../sandbox/tools/context.ts";
import { MarkScanner, OutputCapture } from "./output-capture.ts";
import { killLaunched, launch, type ProcessOptions } from "./sandbox-launch.ts";
import { type Watchdog, watch } from "./watchdog.ts";

export type { ProcessOptions } from "./sandbox-launch.ts";

/** Exit status reported with a timeout failure (as `timeout(1)` gives). */
export const TIMEOUT_EXIT_CODE = 124;
/** How long a killed shell's pipes may take to close before we stop waiting for them. */
const CLOSE_GRACE_MS = 5_000;

// `$?` at the start of a command is the previous command's status (not under `set -e`, where
// restoring a non-zero status would end the shell). xtrace is switched off around the driver's
// own lines and back on inside the eval, so traces show only the user's commands.
const DRIVER = [
  // fds 5 and 6 keep the real stdout and stderr for the marks, so `exec >log` cannot hide them.
  "exec </dev/null 5>&1 6>&2",
  '__tether_ret() { return "$1"; }',
  "__tether_status=0",
  "__tether_x=",
  "while IFS= builtin read -r -u 3 __tether_line; do",
  "  builtin printf -v __tether_cmd '%b' \"$__tether_line\"",
  "  builtin unset __tether_line",
  '  if [[ $- == *e* ]]; then __tether_ret 0; else __tether_ret "$__tether_status"; fi',
  '  builtin eval "${__tether_x:+set -x',
  '}$__tether_cmd" 3<&- 4>&- 5>&- 6>&-',
  "  { __tether_status=$?; __tether_x=${-//[^x]/}; builtin set +x; } 2>/dev/null",
  "  IFS= builtin read -r -u 3 __tether_mark",
  "  builtin printf '%s' \"$__tether_mark\" >&5",
  "  builtin printf '%s' \"$__tether_mark\" >&6",
  '  builtin printf \'%s %d\\n\' "$__tether_mark" "$__tether_status" >&4',
  "  builtin unset __tether_mark",
  "done",
  // The control pipe closed: the gateway is gone. Stay, with the children still linked to us,
  // until they end or the watchdog (no bwrap) or the namespace's end (bwrap) kills us all.
  "builtin wait",
].join("\n");

export function openShell(options: ProcessOptions): ShellSession {
  return new ShellSession(options);
}

interface LiveShell {
  child: ChildProcess;
  contained: boolean;
  /** Resolves when the process has exited and its pipes have closed. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set when the process has exited (its pipes may still be open). */
  dead: boolean;
  /** Kills the shell's processes if the gateway dies (without bwrap only). */
  watchdog?: Watchdog;
  /** Why the process could not start (spawn's error), if it could not. */
  startError?: string;
  /** Where output goes while a command runs. */
  sink?: (stream: "stdout" | "stderr" | "status", bytes: Buffer) => void;
}

export class ShellSession implements BashRunner {
  private shell: LiveShell | undefined;
  /** One command at a time, in arrival order. */
  private readonly queue = new SerialQueue();
  private closed = false;

  private readonly options: ProcessOptions;

  constructor(options: ProcessOptions) {
    this.options = options;
  }

  run(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult> {
    return this.queue.run(() => this.runNow(input, onOutput));
  }

  /** Kills the shell and everything it started; the session takes no more commands. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopShell();
  }

  private async runNow(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult> {
    if (this.closed) throw new Error("executor: this sandbox's shell is closed");
    // A shell that died between calls (a background `kill $$`, say) is replaced, not reported.
    if (input.restart || this.shell?.dead) await this.stopShell();
    if (input.command.trim() === "") return { stdout: "", stderr: "", exitCode: 0, truncated: false };
    const timeoutMs = Math.min(Math.max(1, input.timeout_ms ?? DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS);
    const shell = this.shell ?? this.startShell();
    const capture = new OutputCapture(input.uncapped ? undefined : onOutput, input.uncapped ? Infinity : undefined);
    const mark = Buffer.from(`\u001etether-end-${randomBytes(16).toString("hex")}\u001e`);
    const scanners = { stdout: new MarkScanner(mark), stderr: new MarkScanner(mark) };
    let status: number | undefined;
    let statusLine = "";

    let finish: (how: "done" | "stopped" | "exited") => void = () => {};
    const ended = new Promise<"done" | "stopped" | "exited">((resolve) => {
      finish = resolve;
    });
    const check = () => {
      if (status !== undefined && scanners.stdout.found && scanners.stderr.found) finish("done");
    };
    shell.sink = (stream, bytes) => {
      if (stream === "status") {
        statusLine += bytes.toString("latin1");
        const line = statusLine.split("\n").find((each) => each.startsWith(mark.toString("latin1")));
        if (line !== undefined) status = Number(line.slice(mark.length + 1));
      } else {
        capture.push(stream, scanners[stream].push(bytes));
      }
      check();
    };
    void shell.closed.then(() => finish("exited"));
    const timer = setTimeout(() => finish("stopped"), timeoutMs);
    const abort = () => finish("stopped");
    input.signal?.addEventListener("abort", abort, { once: true });
    if (input.signal?.aborted) abort();

    const control = shell.child.stdio[3] as Writable;
    control.write(`${escapeCommand(input.command)}\n${mark.toString("latin1")}\n`, "latin1");
    const how = await ended;
    clearTimeout(timer);
    input.signal?.removeEventListener("abort", abort);

    if (how === "done") {
      shell.sink = undefined;
      return { ...capture.finish(), exitCode: status ?? 0 };
    }
    // Stopped or exited: the shell is gone (or going); its last output is read until its pipes close.
    const exit = how === "stopped" ? await this.stopShell() : await this.stopShell(shell);
    if (shell.startError) capture.push("stderr", Buffer.from(shell.startError));
    const output = capture.finish();
    if (how === "stopped") {
      return {
        ...output,
        exitCode: TIMEOUT_EXIT_CODE,
        failure: { kind: "timeout", message: timeoutMessage(timeoutMs) },
      };
    }
    const exitCode = exit?.code ?? 128 + signalNumber(exit?.signal);
    return { ...output, exitCode };
  }

  private startShell(): LiveShell {
    const { config } = this.options;
    const spec = launch(this.options, [config.shell, "--noprofile", "--norc", "-c", DRIVER]);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      // Its own process group: a Ctrl-C at the gateway's terminal is the gateway's to handle,
      // and without bwrap the group is what stopShell kills.
      detached: true,
    });
    const shell: LiveShell = {
      child,
      dead: false,
      contained: spec.contained,
      closed: new Promise((resolve) => {
        child.once("close", (code, signal) => resolve({ code, signal }));
        child.once("error", (error) => {
          shell.startError = `executor: could not start ${spec.command}: ${error.message}\n`;
          resolve({ code: 127, signal: null });
        });
      }),
    };
    child.once("exit", () => {
      shell.dead = true;
    });
    if (!spec.contained && child.pid !== undefined) shell.watchdog = watch(child.pid);
    const route = (stream: "stdout" | "stderr" | "status") => (bytes: Buffer) => shell.sink?.(stream, bytes);
    child.stdout?.on("data", route("stdout"));
    child.stderr?.on("data", route("stderr"));
    (child.stdio[4] as Readable).on("data", route("status"));
    // A write to a shell that just died fails with EPIPE; its exit is what the caller learns.
    (child.stdio[3] as Writable).on("error", () => {});
    this.shell = shell;
    return shell;
  }

  /**
   * Kills the live shell (or the given one, which has exited by itself) with everything it
   * started, and waits for its pipes to close so its last output is read.
   */
  private async stopShell(
    shell = this.shell,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!shell) return undefined;
    if (this.shell === shell) this.shell = undefined;
    const pid = shell.child.pid;
    if (pid !== undefined) killLaunched(pid, shell.contained);
    shell.watchdog?.dismiss();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exit = await Promise.race([
      shell.closed,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), CLOSE_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    // Processes that kept the pipes open past the grace (uncontained, escaped): stop reading them.
    shell.child.stdout?.destroy();
    shell.child.stderr?.destroy();
    shell.sink = undefined;
    return exit;
  }
}

/** The command as one line the driver's `printf %b` turns back into the same bytes. */
export function escapeCommand(command: string): string {
  let line = "";
  for (const byte of Buffer.from(command, "utf8")) {
    const plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    line += plain ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return line;
}

function signalNumber(signal: NodeJS.Signals | null | undefined): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 0;
}

/**
 * One stdio MCP server process: spawned directly (no shell, no `npx`) as the leader of its own
 * process group, so stopping it also stops anything it started. Speaks newline-delimited JSON-RPC
 * on stdin/stdout; stderr lines are logged with the server's name and the last one is kept to
 * explain an exit.
 *
 * Lifecycle: `StdioChild.spawn` resolves once the OS started the process (rejects with a
 * TetherError if it could not) → messages flow → the process exits (on its own, or through
 * `stop`) → `exited` resolves after stdout is drained, carrying a one-line reason.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { TetherError } from "../../errors/tether-error.ts";
import { LineDecoder } from "./json-lines.ts";

/** Largest single JSON-RPC message accepted from a child's stdout. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const MAX_STDERR_LINE_BYTES = 64 * 1024;
const MAX_REASON_CHARS = 300;
/** How long to wait for stdout/stderr to close once the process itself has exited. */
const DRAIN_AFTER_EXIT_MS = 1_000;

export interface ChildSpec {
  /** The server's configured name, used in logs and error messages. */
  name: string;
  command: string;
  args: readonly string[];
  /** Added to a minimal inherited environment (HOME, PATH, ...): gateway secrets never reach servers. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

export interface ChildHooks {
  onMessage: (message: JSONRPCMessage) => void;
  log: (line: string) => void;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** One line for humans: "stdio server 'x' exited with code 1: <last stderr line>". */
  reason: string;
}

/** Process groups still alive, killed synchronously if the gateway process exits without `stop`. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const group of liveGroups) signalGroup(group, "SIGKILL");
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

export class StdioChild {
  readonly pid: number;
  readonly exited: Promise<ChildExit>;
  readonly #name: string;
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #hooks: ChildHooks;
  #lastStderrLine = "";
  #overrideReason: string | undefined;
  #exit: ChildExit | undefined;

  private constructor(spec: ChildSpec, child: ChildProcessWithoutNullStreams, pid: number, hooks: ChildHooks) {
    this.#name = spec.name;
    this.#process = child;
    this.pid = pid;
    this.#hooks = hooks;
    trackGroup(pid);
    this.exited = new Promise((resolve) => this.#watchExit(resolve));
    this.#readStdout();
    this.#readStderr();
    // EPIPE when the child is gone: the exit path reports it, nothing to do here.
    child.stdin.on("error", () => {});
  }

  /** Starts the process; rejects with an "upstream_unavailable" TetherError if the OS could not. */
  static spawn(spec: ChildSpec, hooks: ChildHooks): Promise<StdioChild> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        reject(
          new TetherError("upstream_unavailable", `stdio server '${spec.name}' could not start: ${error.message}`),
        );
      };
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn(spec.command, [...spec.args], {
          cwd: spec.cwd,
          env: { ...getDefaultEnvironment(), ...spec.env },
          shell: false,
          // Own process group (POSIX: new session), so a group signal reaches grandchildren too.
          detached: true,
          stdio: ["pipe", "pipe", "pipe"],
          windowsHide: true,
        });
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      child.once("error", onError);
      child.once("spawn", () => {
        child.off("error", onError);
        child.on("error", (error) => hooks.log(`[${spec.name}] process error: ${error.message}`));
        resolve(new StdioChild(spec, child, child.pid ?? 0, hooks));
      });
    });
  }

  /** The exit once it happened (stdout drained), else undefined. */
  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  /** Writes one message to the child's stdin. False when the child can no longer receive. */
  send(message: JSONRPCMessage): boolean {
    const stdin = this.#process.stdin;
    if (this.#exit || stdin.destroyed || !stdin.writable) return false;
    stdin.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  /**
   * Ends the child: closes stdin and sends SIGTERM to its group, then SIGKILL after `graceMs`.
   * Resolves once the process is gone (bounded: a process that survives SIGKILL is reported, not awaited).
   */
  async stop(graceMs: number, reason?: string): Promise<ChildExit> {
    if (!this.#exit && reason) this.#overrideReason ??= reason;
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.stdin.end();
      signalGroup(this.pid, "SIGTERM");
      if (!(await settlesWithin(this.exited, graceMs))) {
        signalGroup(this.pid, "SIGKILL");
        if (!(await settlesWithin(this.exited, graceMs))) {
          this.#hooks.log(`[${this.#name}] process ${this.pid} did not exit after SIGKILL`);
        }
      }
    }
    // Whatever the leader left behind in its group goes too.
    signalGroup(this.pid, "SIGKILL");
    return this.#exit ?? this.exited;
  }

  #watchExit(resolve: (exit: ChildExit) => void): void {
    const child = this.#process;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.#exit) return;
      clearTimeout(drainTimer);
      liveGroups.delete(this.pid);
      this.#exit = { code, signal, reason: this.#overrideReason ?? this.#describe(code, signal) };
      resolve(this.#exit);
    };
    child.once("exit", (code, signal) => {
      // Orphans of the leader would keep stdout open (and outlive it): end the group.
      signalGroup(this.pid, "SIGKILL");
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, DRAIN_AFTER_EXIT_MS);
      drainTimer.unref();
    });
    // "close" comes after "exit" and after stdout/stderr ended, so every line was read.
    child.once("close", (code, signal) => finish(code, signal));
  }

  #describe(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const detail = this.#lastStderrLine ? `: ${this.#lastStderrLine}` : "";
    return `stdio server '${this.#name}' ${how}${detail}`;
  }

  #readStdout(): void {
    const decoder = new LineDecoder(MAX_MESSAGE_BYTES);
    this.#process.stdout.on("data", (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = decoder.push(chunk);
      } catch (error) {
        const reason = `stdio server '${this.#name}' sent an oversized message (${(error as Error).message})`;
        this.#hooks.log(`[${this.#name}] ${reason}`);
        void this.stop(0, reason);
        return;
      }
      for (const line of lines) this.#onStdoutLine(line);
    });
  }

  #onStdoutLine(line: string): void {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const message = JSONRPCMessageSchema.safeParse(parsed);
    if (!message.success) {
      this.#hooks.log(`[${this.#name}] ignored a stdout line that is not JSON-RPC: ${truncate(line)}`);
      return;
    }
    this.#hooks.onMessage(message.data);
  }

  #readStderr(): void {
    const decoder = new LineDecoder(MAX_STDERR_LINE_BYTES);
    this.#process.stderr.on("data", (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = decoder.push(chunk);
      } catch {
        lines = ["(stderr line too long, dropped)"];
      }
      for (const line of lines) this.#onStderrLine(line);
    });
    this.#process.stderr.on("end", () => {
      const rest = decoder.flush();
      if (rest !== undefined) this.#onStderrLine(rest);
    });
  }

  #onStderrLine(line: string): void {
    this.#hooks.log(`[${this.#name}] ${line}`);
    if (line.trim() !== "") this.#lastStderrLine = truncate(line.trim());
  }
}

function truncate(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

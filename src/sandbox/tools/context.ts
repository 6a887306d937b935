import type { IFileSystem } from "just-bash";

/**
 * What a tool needs from its sandbox. The Sandbox Durable Object builds one per sandbox and passes it
 * to every tool call; tests build one over just-bash's InMemoryFs and a fake shell.
 */
export interface ToolContext {
  /** The sandbox's filesystem (SqliteFs in production). Paths are absolute, `/` is the sandbox's own root. */
  fs: IFileSystem;
  /** The sandbox's persistent shell session (BashSession in production). */
  bash: BashRunner;
  /** Runs JavaScript in a fresh isolate; absent where no isolate loader is available. */
  runCode?: RunCode;
}

/** Relative paths given to file tools resolve against the working directory, like the shell's start cwd. */
export const WORKDIR = "/workspace";

export type OutputStream = "stdout" | "stderr";

/** Receives output chunks as a tool produces them, so callers can stream them before the result. */
export type OutputListener = (stream: OutputStream, text: string) => void;

export interface BashRunInput {
  /** The command line; empty when the call only restarts the shell. */
  command: string;
  /** Start a fresh shell (cwd, variables and functions reset) before running `command`. */
  restart?: boolean;
  /** Wall-clock limit for this call; the session's default applies when absent. */
  timeout_ms?: number;
}

export interface BashRunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** True when stdout or stderr was cut at the session's output cap (the text carries a marker). */
  truncated: boolean;
  /** Set when the command could not run to completion: stopped by the timeout or an execution limit. */
  failure?: { kind: "timeout" | "limit"; message: string };
}

export interface BashRunner {
  run(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult>;
}

export interface RunCodeInput {
  code: string;
  language: "javascript";
  timeout_ms?: number;
}

export interface RunCodeResult {
  stdout: string;
  stderr: string;
  /** The code's return value (already parsed from JSON); absent when it returned undefined or failed. */
  result?: unknown;
  /** The uncaught error, syntax error or timeout that ended the code, as text. */
  error?: string;
  timedOut: boolean;
  /** URLs the code tried to fetch that the sandbox's allow list refused, in order. */
  networkRefused?: string[];
}

export type RunCode = (input: RunCodeInput) => Promise<RunCodeResult>;

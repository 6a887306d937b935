import type { IFileSystem } from "just-bash";
import type { BashRunInput, BashRunResult, OutputListener, OutputStream } from "../bash/bash-session.ts";
import type { RunCodeInput, RunCodeResult } from "../run-code/run-code.ts";

// The shell's and run_code's own types are the contract: tools and test doubles import them from here.
export type { BashRunInput, BashRunResult, OutputListener, OutputStream, RunCodeInput, RunCodeResult };

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

export interface BashRunner {
  run(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult>;
}

export type RunCode = (input: RunCodeInput) => Promise<RunCodeResult>;

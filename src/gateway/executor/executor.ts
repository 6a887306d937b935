/**
 * One configured executor: the sandboxes whose tool calls run on this machine.
 *
 * Storage layout (under the configured `dir`):
 *   DIR/.tether-executor.json   `{ "instance": "<uuid>" }`, written on first start, kept after: the
 *                               edge routes a sandbox back to the instance holding its workspace
 *   DIR/.tether-tmp/            scratch for uploads in flight (same filesystem, so a rename lands
 *                               them); emptied at start, since nothing in it outlives a process
 *   DIR/<sandbox-id>/           a sandbox's workspace (its `/workspace`), created on first use and
 *                               kept until the sandbox is deleted (across gateway restarts too)
 *
 * Lifecycle in memory: a sandbox's shell opens on its first bash call and stays open (its cwd,
 * variables and background jobs persist) until the sandbox is deleted or the executor closes. At
 * most `maxSessions` sandboxes have a live shell at once; file operations never count.
 */
import { randomUUID } from "node:crypto";
import * as fsp from "node:fs/promises";
import { TetherError } from "../../errors/tether-error.ts";
import type { ExecutorAnnouncement, ExecutorSandboxInfo } from "../../protocol/executor-api.ts";
import type { BashRunner, RunCode } from "../../sandbox/tools/context.ts";
import type { Logger } from "../log.ts";
import type { ExecutorConfig } from "./executor-config.ts";
import { treeBytes } from "./workspace-files.ts";
import { WorkspaceFs } from "./workspace-fs.ts";

export const INSTANCE_FILE = ".tether-executor.json";
export const SCRATCH_DIR = ".tether-tmp";
const SANDBOX_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A sandbox's persistent shell: `close()` ends it and every process it started. */
export type ExecutorShell = BashRunner & { close(): Promise<void> };

export interface ExecutorOptions {
  name: string;
  config: ExecutorConfig;
  /** Opens the persistent shell of the workspace at `workspace` (a real path), with the sandbox's env. */
  openShell(workspace: string, sandboxEnv: Record<string, string>): Promise<ExecutorShell> | ExecutorShell;
  /** run_code for the workspace at `workspace`; without it, run_code answers that it is unavailable. */
  runCode?(workspace: string): RunCode;
  log: Logger;
}

/** One sandbox as the executor holds it. */
export interface ExecutorSandbox {
  readonly id: string;
  readonly fs: WorkspaceFs;
  /** Aborted when the sandbox is deleted or the executor closes: its calls in flight stop. */
  readonly ended: AbortSignal;
  /** The shell, opened on first use (refused with over_capacity when maxSessions are live). */
  shell(env: Record<string, string>): Promise<ExecutorShell>;
  runCode?: RunCode;
  /**
   * True once after the workspace was found deleted behind the executor's back (and recreated
   * empty, its shell closed): the next tool call says so, whichever request noticed it.
   */
  takeRecreated(): boolean;
}

interface SandboxState {
  sandbox: ExecutorSandbox;
  shell: Promise<ExecutorShell> | null;
  ending: AbortController;
  recreated: boolean;
}

export class Executor {
  readonly name: string;
  readonly config: ExecutorConfig;
  readonly #options: ExecutorOptions;
  readonly #sandboxes = new Map<string, SandboxState>();
  #instance = "";
  #root = "";
  #closed = false;

  private constructor(options: ExecutorOptions) {
    this.name = options.name;
    this.config = options.config;
    this.#options = options;
  }

  /** Creates the directory (and its instance file) when missing, and empties the scratch area. */
  static async start(options: ExecutorOptions): Promise<Executor> {
    const executor = new Executor(options);
    await fsp.mkdir(options.config.dir, { recursive: true });
    executor.#root = await fsp.realpath(options.config.dir);
    executor.#instance = await loadInstance(executor.#root);
    await fsp.rm(executor.scratch, { recursive: true, force: true });
    await fsp.mkdir(executor.scratch, { recursive: true, mode: 0o700 });
    return executor;
  }

  get instance(): string {
    return this.#instance;
  }

  /** Where uploads are written before they are renamed into place. */
  get scratch(): string {
    return `${this.#root}/${SCRATCH_DIR}`;
  }

  announcement(): ExecutorAnnouncement {
    const { isolate, network, maxSessions } = this.config;
    return { name: this.name, instance: this.#instance, isolate, network, maxSessions };
  }

  /** Sandboxes with a live (or opening) shell. */
  get liveShells(): number {
    let count = 0;
    for (const state of this.#sandboxes.values()) if (state.shell) count++;
    return count;
  }

  /** The real path of a sandbox's workspace (the id is checked first). */
  workspacePath(id: string): string {
    if (!SANDBOX_ID.test(id)) {
      throw new TetherError("bad_request", `invalid sandbox id "${id}": use 1 to 64 of A-Z a-z 0-9 _ -`);
    }
    return `${this.#root}/${id}`;
  }

  /**
   * The sandbox, its workspace created when missing. When the executor had seen the workspace
   * before and it is gone (deleted behind its back), it is recreated empty and its shell, whose
   * cwd no longer exists, is closed so the next bash call starts fresh; the sandbox's next tool
   * call says so (ExecutorSandbox.takeRecreated).
   */
  async sandbox(id: string): Promise<ExecutorSandbox> {
    if (this.#closed) throw new TetherError("upstream_unavailable", `executor "${this.name}" is shut down`);
    const workspace = this.workspacePath(id);
    // Whether the executor knew the sandbox before this call: a concurrent first call may create
    // the workspace and register the sandbox while this one awaits, and that is no removal.
    const knownBefore = this.#sandboxes.has(id);
    let created = false;
    try {
      await fsp.mkdir(workspace, { mode: 0o755 });
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const stat = await fsp.lstat(workspace);
    if (!stat.isDirectory()) throw new TetherError("conflict", `the workspace of sandbox "${id}" is not a directory`);
    // Looked up after the awaits: a concurrent first call may have registered the sandbox meanwhile.
    const known = this.#sandboxes.get(id);
    if (known) {
      if (created && knownBefore) {
        known.recreated = true;
        this.#options.log("executor_workspace_recreated", { executor: this.name, sandbox: id });
        await this.#closeShell(known);
      }
      return known.sandbox;
    }
    const state = this.#newState(id, workspace);
    this.#sandboxes.set(id, state);
    return state.sandbox;
  }

  async info(id: string): Promise<ExecutorSandboxInfo> {
    const workspace = this.workspacePath(id);
    const exists = (await fsp.lstat(workspace).catch(() => null))?.isDirectory() === true;
    return { exists, workspaceBytes: exists ? await treeBytes(workspace) : 0, instance: this.#instance };
  }

  /** Stops the sandbox's shell (and every process in it) and removes its workspace. Idempotent. */
  async delete(id: string): Promise<void> {
    const workspace = this.workspacePath(id);
    const state = this.#sandboxes.get(id);
    if (state) {
      this.#sandboxes.delete(id);
      state.ending.abort(new TetherError("not_found", `sandbox "${id}" was deleted`));
      await this.#closeShell(state);
    }
    await fsp.rm(workspace, { recursive: true, force: true });
  }

  /** Closes every shell (the gateway is stopping); workspaces stay. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const states = [...this.#sandboxes.values()];
    this.#sandboxes.clear();
    for (const state of states) state.ending.abort(new TetherError("upstream_unavailable", "the executor is stopping"));
    await Promise.all(states.map((state) => this.#closeShell(state)));
  }

  #newState(id: string, workspace: string): SandboxState {
    const ending = new AbortController();
    const state: SandboxState = {
      shell: null,
      ending,
      recreated: false,
      sandbox: {
        id,
        fs: new WorkspaceFs(workspace),
        ended: ending.signal,
        runCode: this.#options.runCode?.(workspace),
        takeRecreated: () => {
          const recreated = state.recreated;
          state.recreated = false;
          return recreated;
        },
        shell: (env) => this.#shellOf(state, workspace, env),
      },
    };
    return state;
  }

  /** The sandbox's shell, opening it when it has none (refusals and open failures as rejections). */
  #shellOf(state: SandboxState, workspace: string, env: Record<string, string>): Promise<ExecutorShell> {
    if (state.shell) return state.shell;
    // A call still in flight after delete/close must not open a shell nobody would close.
    if (state.ending.signal.aborted) return Promise.reject(state.ending.signal.reason);
    if (this.liveShells >= this.config.maxSessions) {
      return Promise.reject(
        new TetherError(
          "over_capacity",
          `executor "${this.name}" is busy: ${this.config.maxSessions} sandboxes already have a live shell (its maxSessions); delete one, or try again later`,
          { headers: { "retry-after": "5" } },
        ),
      );
    }
    // Set before anything is awaited, so concurrent calls see the place taken.
    const opening = (async () => this.#options.openShell(workspace, env))();
    state.shell = opening;
    // A shell that failed to open does not hold a place.
    opening.catch(() => {
      if (state.shell === opening) state.shell = null;
    });
    return opening;
  }

  async #closeShell(state: SandboxState): Promise<void> {
    const shell = state.shell;
    state.shell = null;
    if (!shell) return;
    try {
      await (await shell).close();
    } catch (error) {
      this.#options.log("executor_shell_close_failed", {
        executor: this.name,
        sandbox: state.sandbox.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** The instance id kept in the executor's directory, written on first start. */
async function loadInstance(root: string): Promise<string> {
  const file = `${root}/${INSTANCE_FILE}`;
  try {
    const parsed: unknown = JSON.parse(await fsp.readFile(file, "utf8"));
    const instance = (parsed as { instance?: unknown }).instance;
    if (typeof instance === "string" && instance.length > 0 && instance.length <= 128) return instance;
    throw new TetherError("internal", `${file} holds no valid "instance"; remove it to start a new instance`);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new TetherError("internal", `${file} is not JSON (${error.message}); remove it to start a new instance`);
    }
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const instance = randomUUID();
  // Written whole then renamed: a crash mid-write never leaves a half file to trip the next start.
  const temp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(temp, `${JSON.stringify({ instance })}\n`);
  await fsp.rename(temp, file);
  return instance;
}

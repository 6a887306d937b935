/**
 * How a sandbox's processes (its shell, run_code's Node) are started and stopped.
 *
 * Every process runs under bwrap when bwrap is on the machine, even with `isolate: "none"`: its
 * PID namespace is what makes "no orphans" hold. When the namespace's first process dies the
 * kernel kills everything in it, including `nohup` and `setsid` children that left our process
 * group, and `--die-with-parent` ties that first process to the gateway, so even a SIGKILLed
 * gateway (which runs no code at all) leaves nothing behind. A watchdog scanning /proc could only
 * find escapees it happened to see before they double-forked away; the namespace cannot miss one.
 * With `isolate: "none"` the namespace shares everything else (the whole filesystem read-write,
 * the network): only PIDs are private.
 *
 * Without bwrap (isolate "none" only) the process leads its own process group and stopping it
 * kills that group plus every descendant found in /proc: best effort, since a `setsid` child
 * whose parent already exited has no link left to us. A watchdog (watchdog.ts) does the same
 * when the gateway dies. The README's advice is to install bwrap.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ExecutorConfig } from "../executor-config.ts";

/** What a sandbox's processes are started from; the executor builds one per sandbox. */
export interface ProcessOptions {
  /** The sandbox's workspace on this machine (`DIR/<sandbox-id>`); must exist. */
  workspace: string;
  config: ExecutorConfig;
  /** The sandbox's own environment (from the edge's ToolCallRequest.env). */
  sandboxEnv: Record<string, string>;
  /** Node binary for run_code; default the gateway's own (process.execPath). */
  nodePath?: string;
  /** The bwrap binary; default: found on PATH. null: run without bwrap (isolate "none" only). */
  bwrap?: string | null;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** In a bwrap PID namespace: killing `command` kills everything it started. */
  contained: boolean;
  /** The workspace as the sandboxed process sees it. */
  workdir: string;
}

export const SANDBOX_WORKDIR = "/workspace";

let bwrapPath: string | null | undefined;

/** The bwrap binary on PATH, or null. Checked once, with a real run (user namespaces may be off). */
export function findBwrap(): string | null {
  if (bwrapPath !== undefined) return bwrapPath;
  bwrapPath = null;
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const candidate = join(dir || ".", "bwrap");
    try {
      accessSync(candidate, constants.X_OK);
      execFileSync(candidate, ["--bind", "/", "/", "--unshare-pid", "--", "/bin/true"], {
        stdio: "ignore",
        timeout: 10_000,
      });
      bwrapPath = candidate;
      break;
    } catch {
      // not here, or it cannot make namespaces
    }
  }
  return bwrapPath;
}

/** The workspace as the sandbox's processes see it: /workspace under bwrap isolation, else the real path. */
export function sandboxWorkdir(options: ProcessOptions): string {
  return options.config.isolate === "bwrap" ? SANDBOX_WORKDIR : realpathSync(options.workspace);
}

/** The command line that runs `argv` for this sandbox, and the environment it gets. */
export function launch(options: ProcessOptions, argv: string[]): Launch {
  const { config } = options;
  const workspace = realpathSync(options.workspace);
  const bwrap = options.bwrap === undefined ? findBwrap() : options.bwrap;
  if (config.isolate === "bwrap" && !bwrap) {
    throw new Error('executor: isolate "bwrap" is configured but bwrap is not installed (or cannot create namespaces)');
  }
  const isolated = config.isolate === "bwrap";
  const workdir = sandboxWorkdir(options);
  const env: Record<string, string> = {};
  for (const name of config.env) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.sandboxEnv, { HOME: workdir, PWD: workdir });
  if (!bwrap) return { command: argv[0] ?? "", args: argv.slice(1), env, cwd: workspace, contained: false, workdir };

  const common = ["--unshare-pid", "--die-with-parent", "--chdir", workdir];
  const sandboxArgs = isolated
    ? [
        ...systemReadOnly(),
        // Other sandboxes' workspaces live beside this one: hide the whole executor directory.
        "--tmpfs",
        realpathSync(config.dir),
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        // The program itself stays visible wherever it lives (Node under a checkout in /tmp, say).
        ...programDirectory(argv[0]),
        "--bind",
        workspace,
        SANDBOX_WORKDIR,
        // bwrap's root is a writable tmpfs: make it read-only too (the mounts on it keep their own modes).
        "--remount-ro",
        "/",
        "--unshare-ipc",
        "--unshare-uts",
        ...(config.network === "on" ? [] : ["--unshare-net"]),
        // No TIOCSTI into a terminal outside.
        "--new-session",
      ]
    : ["--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--proc", "/proc"];
  return {
    command: bwrap,
    args: [...sandboxArgs, ...common, "--", ...argv],
    env,
    cwd: workspace,
    contained: true,
    workdir,
  };
}

/** `--ro-bind` of the directory holding `program` (an absolute path), which the tmpfs mounts may hide. */
function programDirectory(program: string | undefined): string[] {
  if (!program?.startsWith("/")) return [];
  const directory = dirname(realpathSync(program));
  return ["--ro-bind", directory, directory];
}

/**
 * The machine's top-level directories read-only (symlinks such as /bin → usr/bin as symlinks),
 * on bwrap's own tmpfs root so that /workspace can be made; /proc, /dev and /tmp are the
 * sandbox's own.
 */
function systemReadOnly(): string[] {
  const args: string[] = [];
  for (const entry of readdirSync("/", { withFileTypes: true })) {
    const path = `/${entry.name}`;
    if (["/proc", "/dev", "/tmp", SANDBOX_WORKDIR].includes(path)) continue;
    if (entry.isSymbolicLink()) args.push("--symlink", readlinkSync(path), path);
    else if (entry.isDirectory()) args.push("--ro-bind", path, path);
  }
  return args;
}

/** Sends SIGKILL to `pid` unless it is one that must never be signalled (≤ 1) or is gone. */
export function killPid(pid: number, group = false): void {
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(group ? -pid : pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Kills a launched process and everything it started. Contained: the namespace goes with its
 * first process. Otherwise: its process group (it was spawned detached) and every descendant
 * still linked to it in /proc, collected before anything is killed.
 */
export function killLaunched(pid: number, contained: boolean): void {
  if (!Number.isInteger(pid) || pid <= 1) return;
  if (contained) {
    killPid(pid);
    return;
  }
  const all = [pid, ...descendantsOf(pid)];
  killPid(pid, true);
  for (const each of all) killPid(each);
}

/** PIDs of every live descendant of `root`, read from /proc (Linux). */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone while we looked
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}

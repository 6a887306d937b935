/**
 * The gateway's executors: sandboxes whose tool calls run on this machine. Each is one more
 * upstream, reached by the edge as `executor:NAME` (src/protocol/executor-api.ts) and announced
 * in Hello.
 *
 * Before any is built, the machine is checked for what executors need: the gateway must not run
 * as root unless that was allowed (every command a sandbox runs would run as root), and bwrap
 * must be on PATH for an executor that isolates its sandboxes with it.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { ExecutorAnnouncement } from "../protocol/executor-api.ts";
import type { NamedExecutorConfig } from "./executor/executor-config.ts";
import { GatewayConfigError } from "./load-config.ts";
import type { Logger } from "./log.ts";
import type { Upstream, UpstreamKind } from "./upstream.ts";

/** An executor as the gateway runs it: an upstream, plus what Hello announces of it. */
export type ExecutorUpstream = Upstream<UpstreamKind> & { readonly announcement: ExecutorAnnouncement };

/** Builds every executor, in order; when one fails, those already built are closed before the error. */
export async function createExecutors(
  configs: readonly NamedExecutorConfig[],
  log: Logger,
): Promise<ExecutorUpstream[]> {
  const built: ExecutorUpstream[] = [];
  try {
    for (const config of configs) built.push(await createExecutor(config, log));
  } catch (error) {
    await Promise.allSettled(built.map((executor) => executor.close()));
    throw error;
  }
  return built;
}

/**
 * Builds one executor: its HTTP face (./executor/executor-upstream.ts) over real shells and
 * run_code processes (./executor/process/). Loaded on first use, so a gateway that serves only
 * MCP servers never loads the sandbox tools.
 */
async function createExecutor({ name, executor: config }: NamedExecutorConfig, log: Logger): Promise<ExecutorUpstream> {
  const [{ createExecutorUpstream }, { openShell }, { createRunCode }] = await Promise.all([
    import("./executor/executor-upstream.ts"),
    import("./executor/process/shell-session.ts"),
    import("./executor/process/run-code.ts"),
  ]);
  return createExecutorUpstream(name, config, {
    openShell: (workspace, sandboxEnv) => openShell({ workspace, config, sandboxEnv }),
    runCode: (workspace) => createRunCode({ workspace, config, sandboxEnv: {} }),
    log,
  });
}

/** The facts about this process and machine the checks below depend on. */
export interface ExecutorHost {
  /** The process's user id (undefined where there is none, e.g. Windows). */
  uid: number | undefined;
  /** The PATH commands are looked up in. */
  path: string;
}

export function currentHost(): ExecutorHost {
  return { uid: process.getuid?.(), path: process.env.PATH ?? "" };
}

/** Why these executors cannot run here, one line each (empty when they can). */
export function executorHostProblems(
  configs: readonly NamedExecutorConfig[],
  allowRoot: boolean,
  host: ExecutorHost = currentHost(),
): string[] {
  const problems: string[] = [];
  if (configs.length === 0) return problems;
  if (host.uid === 0 && !allowRoot) {
    problems.push(
      'the gateway runs as root, so every command its executors\' sandboxes run would run as root: run it as an unprivileged user, or pass --allow-root (or "allowRoot": true in the config file) to accept that',
    );
  }
  const isolated = configs.filter(({ executor }) => executor.isolate === "bwrap").map(({ name }) => `"${name}"`);
  if (isolated.length > 0 && !findOnPath("bwrap", host.path)) {
    problems.push(
      `executor ${isolated.join(", ")}: "isolate": "bwrap" needs the bwrap command, which is not on PATH; install the Debian package bubblewrap (apt-get install bubblewrap)`,
    );
  }
  return problems;
}

/** Refuses to go on (GatewayConfigError) when executorHostProblems finds any. */
export function checkExecutorHost(
  configs: readonly NamedExecutorConfig[],
  allowRoot: boolean,
  host: ExecutorHost = currentHost(),
): void {
  const problems = executorHostProblems(configs, allowRoot, host);
  if (problems.length > 0) throw new GatewayConfigError(problems);
}

/** Whether an executable file of that name is in one of PATH's directories (empty entries skipped). */
function findOnPath(command: string, path: string): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      const file = join(dir, command);
      try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

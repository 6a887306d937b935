/**
 * An executor upstream on a temporary directory, driven directly with web Requests (no tunnel).
 * Its shell is a simple real one: each call runs `bash -c` in the workspace (no state carried
 * between calls; the persistent shell is built elsewhere), stopped by the run's signal.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import type { ExecutorShell } from "../../src/gateway/executor/executor.ts";
import { ExecutorConfigSchema } from "../../src/gateway/executor/executor-config.ts";
import { createExecutorUpstream, type ExecutorUpstream } from "../../src/gateway/executor/executor-upstream.ts";
import { type ExecutorToolLine, executorPaths } from "../../src/protocol/executor-api.ts";
import type { BashRunInput, BashRunResult, OutputListener, RunCode } from "../../src/sandbox/tools/context.ts";

/** `bash -c` per call in `cwd`; records its children so tests can see them gone. */
export class PerCallBash implements ExecutorShell {
  readonly children = new Set<ChildProcess>();
  readonly pids: number[] = [];
  closed = false;

  readonly cwd: string;
  readonly env: Record<string, string>;

  constructor(cwd: string, env: Record<string, string>) {
    this.cwd = cwd;
    this.env = env;
  }

  run(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", input.command], {
        cwd: this.cwd,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...this.env },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (child.pid !== undefined) this.pids.push(child.pid);
      this.children.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        stdout += text;
        onOutput?.("stdout", text);
      });
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text;
        onOutput?.("stderr", text);
      });
      const stop = () => killGroup(child);
      input.signal?.addEventListener("abort", stop, { once: true });
      if (input.signal?.aborted) stop();
      child.on("error", reject);
      child.on("close", (code, signal) => {
        this.children.delete(child);
        input.signal?.removeEventListener("abort", stop);
        resolve({ stdout, stderr, exitCode: code ?? (signal ? 128 + 15 : 1), truncated: false });
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const child of this.children) killGroup(child);
  }
}

/** Kills the process group this test's own spawn created (never pid ≤ 1). */
function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined && child.pid > 1 && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

export interface Harness {
  dir: string;
  upstream: ExecutorUpstream;
  shells: PerCallBash[];
  call(
    method: string,
    path: string,
    init?: { body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response>;
  tool(sandbox: string, tool: string, input: unknown, env?: Record<string, string>): Promise<ExecutorToolLine[]>;
  cleanup(): Promise<void>;
}

export async function executorHarness(
  config: Record<string, unknown> = {},
  dir?: string,
  runCode?: (workspace: string) => RunCode,
): Promise<Harness> {
  const parent = dir ?? (await fsp.mkdtemp(`${tmpdir()}/tether-xws-`));
  const shells: PerCallBash[] = [];
  const upstream = await createExecutorUpstream("main", ExecutorConfigSchema.parse({ dir: parent, ...config }), {
    openShell(workspace, env) {
      const shell = new PerCallBash(workspace, env);
      shells.push(shell);
      return shell;
    },
    runCode,
    log: () => {},
  });
  const call: Harness["call"] = (method, path, init = {}) => {
    const request = new Request(`http://executor${path}`, {
      method,
      body: init.body,
      headers: init.headers,
      signal: init.signal,
      duplex: "half",
    } as RequestInit);
    return upstream.handle(request, path, init.signal ?? new AbortController().signal);
  };
  return {
    dir: parent,
    upstream,
    shells,
    call,
    async tool(sandbox, tool, input, env = {}) {
      const res = await call("POST", executorPaths.tool(sandbox, tool), { body: JSON.stringify({ input, env }) });
      if (res.status !== 200) throw new Error(`tool call answered ${res.status}: ${await res.text()}`);
      return ndjson(await res.text());
    },
    async cleanup() {
      await upstream.close();
      if (!dir) await fsp.rm(parent, { recursive: true, force: true });
    },
  };
}

export function ndjson(text: string): ExecutorToolLine[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ExecutorToolLine);
}

export function outcomeOf(lines: ExecutorToolLine[]): Extract<ExecutorToolLine, { type: "outcome" }>["outcome"] {
  const last = lines.at(-1);
  if (last?.type !== "outcome") throw new Error(`no outcome line: ${JSON.stringify(lines)}`);
  return last.outcome;
}

/** True once no process with `pid` exists (polled; a generous bound, not a speed check). */
export async function gone(pid: number, withinMs = 10_000): Promise<boolean> {
  if (pid <= 1) throw new Error(`refusing to probe pid ${pid}`);
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

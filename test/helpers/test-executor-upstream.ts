/**
 * A TEST executor: an Upstream named `executor:NAME` that a test puts among an in-process
 * gateway's upstreams, answering the executor wire API (src/protocol/executor-api.ts) honestly
 * over a temporary directory: every sandbox's workspace is `ROOT/<id>/workspace`, every bash call
 * is a real `bash -c` there, files are real files, export is a real `tar`. The tools themselves
 * are Tether's own (src/sandbox/tools over just-bash's ReadWriteFs), as the real executor's are.
 * It is not the gateway's executor (that lives in src/gateway/executor/): no persistent shell
 * state, no isolation; just enough, truthfully, for the edge's side to be tested end to end.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ReadWriteFs } from "just-bash";
import type { Upstream } from "../../src/gateway/upstream.ts";
import {
  EXECUTOR_INSTANCE_HEADER,
  type ExecutorAnnouncement,
  type ExecutorToolLine,
  executorUpstreamName,
  FILE_MODE_HEADER,
  ToolCallRequestSchema,
} from "../../src/protocol/executor-api.ts";
import { normalizePath } from "../../src/sandbox/fs/paths.ts";
import type { BashRunInput, BashRunResult, OutputListener, ToolContext } from "../../src/sandbox/tools/context.ts";
import { callTool } from "../../src/sandbox/tools/registry.ts";

export interface ExecutorRequestLog {
  method: string;
  path: string;
}

export class TestExecutorUpstream implements Upstream {
  readonly name: string;
  readonly kind = "http" as const;
  readonly allowPaths = ["/*"];
  readonly announcement: ExecutorAnnouncement;
  readonly requests: ExecutorRequestLog[] = [];
  /** Live bash processes by pid (tests check a cancelled call's process is gone). */
  readonly children = new Map<number, ChildProcess>();
  /** Pids of every bash this executor started. */
  readonly started: number[] = [];
  readonly #root: string;

  constructor(root: string, executor: string, instance: string) {
    this.#root = root;
    this.name = executorUpstreamName(executor);
    this.announcement = { name: executor, instance, isolate: "none", network: "on", maxSessions: 16 };
  }

  sandboxDir(id: string): string {
    return join(this.#root, id);
  }

  async handle(request: Request, _path: string, signal: AbortSignal): Promise<Response> {
    const url = new URL(request.url);
    this.requests.push({ method: request.method, path: url.pathname });
    const expected = request.headers.get(EXECUTOR_INSTANCE_HEADER);
    if (expected !== null && expected !== this.announcement.instance) {
      return failure(409, "conflict", `this is instance ${this.announcement.instance}, not ${expected}`);
    }
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (segments[0] !== "sandboxes" || !segments[1] || !/^[A-Za-z0-9_-]{1,64}$/.test(segments[1])) {
      return failure(404, "not_found", `no route ${url.pathname}`);
    }
    const id = segments[1];
    const rest = segments.slice(2);
    try {
      if (rest.length === 0 && request.method === "GET") return await this.#info(id);
      if (rest.length === 0 && request.method === "DELETE") return await this.#delete(id);
      if (rest[0] === "tools" && rest.length === 2 && request.method === "POST")
        return await this.#tool(id, rest[1] as string, request, signal);
      if (rest[0] === "export" && rest.length === 1 && request.method === "GET") return this.#export(id);
      if (rest[0] === "files") return await this.#file(id, `/${rest.slice(1).join("/")}`, request);
      return failure(404, "not_found", `no route ${request.method} ${url.pathname}`);
    } catch (error) {
      return failure(500, "internal", error instanceof Error ? error.message : String(error));
    }
  }

  async close(): Promise<void> {
    for (const child of this.children.values()) kill(child);
  }

  async #info(id: string): Promise<Response> {
    const workspace = join(this.sandboxDir(id), "workspace");
    const exists = await stat(workspace).then(
      () => true,
      () => false,
    );
    const workspaceBytes = exists ? await du(workspace) : 0;
    return Response.json({ exists, workspaceBytes, instance: this.announcement.instance });
  }

  async #delete(id: string): Promise<Response> {
    await rm(this.sandboxDir(id), { recursive: true, force: true });
    return new Response(null, { status: 204 });
  }

  async #tool(id: string, tool: string, request: Request, signal: AbortSignal): Promise<Response> {
    const parsed = ToolCallRequestSchema.safeParse(await request.json());
    if (!parsed.success) return failure(400, "bad_request", "invalid tool call request");
    const workspace = join(this.sandboxDir(id), "workspace");
    await mkdir(workspace, { recursive: true });
    const ctx: ToolContext = {
      fs: new ReadWriteFs({ root: this.sandboxDir(id) }),
      bash: { run: (input, onOutput) => this.#bash(workspace, parsed.data.env, input, signal, onOutput) },
    };
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const send = (line: ExecutorToolLine) => {
          if (!signal.aborted) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        };
        void callTool(tool, parsed.data.input, ctx, (stream, text) => send({ type: "output", stream, text })).then(
          (outcome) => {
            send({ type: "outcome", outcome });
            if (!signal.aborted) controller.close();
          },
        );
      },
    });
    return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
  }

  /** One real `bash -c` in the workspace; stopped (SIGKILL) when the request is cancelled. */
  #bash(
    cwd: string,
    env: Record<string, string>,
    input: BashRunInput,
    signal: AbortSignal,
    onOutput?: OutputListener,
  ): Promise<BashRunResult> {
    const child = spawn("bash", ["-c", input.command], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pid = child.pid;
    if (pid !== undefined) {
      this.children.set(pid, child);
      this.started.push(pid);
    }
    const stop = () => kill(child);
    signal.addEventListener("abort", stop, { once: true });
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
    return new Promise((resolve) => {
      child.on("close", (code) => {
        signal.removeEventListener("abort", stop);
        if (pid !== undefined) this.children.delete(pid);
        resolve({ stdout, stderr, exitCode: code ?? 137, truncated: false });
      });
    });
  }

  #export(id: string): Response {
    const tar = spawn("tar", ["-c", "-C", this.sandboxDir(id), "workspace"], { stdio: ["ignore", "pipe", "ignore"] });
    return new Response(Readable.toWeb(tar.stdout) as ReadableStream<Uint8Array>, {
      headers: { "content-type": "application/x-tar" },
    });
  }

  async #file(id: string, raw: string, request: Request): Promise<Response> {
    const path = normalizePath(raw);
    if (path !== "/workspace" && !path.startsWith("/workspace/")) {
      return failure(400, "bad_request", `${path} is outside /workspace`);
    }
    const target = join(this.sandboxDir(id), path);
    const existing = await stat(target).catch(() => null);
    switch (request.method) {
      case "PUT": {
        if (!request.body) return failure(400, "bad_request", "no body");
        await mkdir(dirname(target), { recursive: true });
        const out = createWriteStream(target, { mode: modeOf(request) });
        await pipeline(Readable.fromWeb(request.body as import("node:stream/web").ReadableStream), out);
        const bytes = (await stat(target)).size;
        return Response.json({ path, bytes, created: existing === null });
      }
      case "GET":
        if (!existing) return failure(404, "not_found", `no such file: ${path}`);
        if (existing.isDirectory()) return failure(400, "bad_request", `${path} is a directory, not a file`);
        return new Response(Readable.toWeb(createReadStream(target)) as ReadableStream<Uint8Array>, {
          headers: { "content-type": "application/octet-stream", "content-length": String(existing.size) },
        });
      case "DELETE":
        if (!existing) return failure(404, "not_found", `no such file: ${path}`);
        await rm(target, { recursive: true, force: true });
        return new Response(null, { status: 204 });
      default:
        return failure(405, "method_not_allowed", `${request.method} is not supported on files`);
    }
  }
}

function failure(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

function modeOf(request: Request): number {
  const header = request.headers.get(FILE_MODE_HEADER);
  return header && /^[0-7]{3,4}$/.test(header) ? Number.parseInt(header, 8) : 0o644;
}

/** Stops a child by its own pid only (never a group or a pid ≤ 1). */
function kill(child: ChildProcess): void {
  if (child.pid !== undefined && child.pid > 1 && child.exitCode === null) child.kill("SIGKILL");
}

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

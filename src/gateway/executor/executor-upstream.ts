/**
 * An executor as one more upstream of its gateway (`executor:NAME`): serves the executor wire API
 * (src/protocol/executor-api.ts, the spec of every route below) over the Executor's sandboxes.
 * Failures answer ExecutorErrorBody with the status of their TetherError code.
 */
import { errorResponse } from "../../errors/error-response.ts";
import { TetherError } from "../../errors/tether-error.ts";
import {
  EXECUTOR_INSTANCE_HEADER,
  type ExecutorAnnouncement,
  executorUpstreamName,
  FILE_MODE_HEADER,
  ToolCallRequestSchema,
} from "../../protocol/executor-api.ts";
import { formatIssues } from "../../validation/format-issues.ts";
import type { Logger } from "../log.ts";
import type { Upstream } from "../upstream.ts";
import { Executor, type ExecutorOptions } from "./executor.ts";
import type { ExecutorConfig } from "./executor-config.ts";
import { toolCallResponse } from "./executor-tool-call.ts";
import { deleteFile, exportWorkspace, getFile, putFile } from "./workspace-files.ts";

export interface ExecutorUpstream extends Upstream<"executor"> {
  readonly announcement: ExecutorAnnouncement;
}

export interface ExecutorDeps {
  openShell: ExecutorOptions["openShell"];
  runCode?: ExecutorOptions["runCode"];
  log: Logger;
}

export async function createExecutorUpstream(
  name: string,
  config: ExecutorConfig,
  deps: ExecutorDeps,
): Promise<ExecutorUpstream> {
  const executor = await Executor.start({ name, config, ...deps });
  return new ExecutorHandler(executor, deps.log);
}

class ExecutorHandler implements ExecutorUpstream {
  readonly name: string;
  readonly kind = "executor" as const;
  /** Every route of the wire API is below /sandboxes/. */
  readonly allowPaths: readonly string[] = ["/sandboxes/*"];
  readonly announcement: ExecutorAnnouncement;
  readonly #executor: Executor;
  readonly #log: Logger;

  constructor(executor: Executor, log: Logger) {
    this.#executor = executor;
    this.#log = log;
    this.name = executorUpstreamName(executor.name);
    this.announcement = executor.announcement();
  }

  async handle(request: Request, path: string, signal: AbortSignal, body?: Uint8Array): Promise<Response> {
    try {
      return await this.#route(request, path || new URL(request.url).pathname, signal, body);
    } catch (error) {
      if (!(error instanceof TetherError)) {
        this.#log("executor_request_failed", {
          executor: this.#executor.name,
          method: request.method,
          path,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return errorResponse(error);
    }
  }

  close(): Promise<void> {
    return this.#executor.close();
  }

  async #route(request: Request, path: string, signal: AbortSignal, inline?: Uint8Array): Promise<Response> {
    const parts = decodeSegments(path);
    if (parts[0] !== "sandboxes" || parts.length < 2) throw notFound(request, path);
    const expected = request.headers.get(EXECUTOR_INSTANCE_HEADER);
    if (expected !== null && expected !== this.#executor.instance) {
      throw new TetherError(
        "conflict",
        `executor "${this.#executor.name}" is instance ${this.#executor.instance}, not ${expected}: the sandbox's workspace lives on another machine`,
      );
    }
    const [, id, section, ...rest] = parts as [string, string, string | undefined, ...string[]];
    const method = request.method;
    if (section === undefined) {
      if (method === "GET") return Response.json(await this.#executor.info(id));
      if (method === "DELETE") {
        await this.#executor.delete(id);
        return new Response(null, { status: 204 });
      }
      throw notAllowed(method, path);
    }
    if (section === "tools" && rest.length === 1) {
      if (method !== "POST") throw notAllowed(method, path);
      const parsed = ToolCallRequestSchema.safeParse(await jsonBody(request, inline));
      if (!parsed.success)
        throw new TetherError("bad_request", `invalid tool call: ${formatIssues(parsed.error.issues)}`);
      const sandbox = await this.#executor.sandbox(id);
      return toolCallResponse({ sandbox, tool: rest[0] as string, request: parsed.data, signal });
    }
    if (section === "files" && rest.length > 0) {
      const filePath = `/${rest.join("/")}`;
      const sandbox = await this.#executor.sandbox(id);
      if (method === "GET") return getFile(sandbox.fs, filePath);
      if (method === "DELETE") {
        await deleteFile(sandbox.fs, filePath);
        return new Response(null, { status: 204 });
      }
      if (method === "PUT") {
        const mode = fileMode(request.headers.get(FILE_MODE_HEADER));
        const bodyStream = inline ? bytesStream(inline) : request.body;
        return Response.json(await putFile(sandbox.fs, this.#executor.scratch, filePath, bodyStream, mode));
      }
      throw notAllowed(method, path);
    }
    if (section === "export" && rest.length === 0) {
      if (method !== "GET") throw notAllowed(method, path);
      const sandbox = await this.#executor.sandbox(id);
      return new Response(exportWorkspace(sandbox.fs), { headers: { "content-type": "application/x-tar" } });
    }
    throw notFound(request, path);
  }
}

/** Path segments, each percent-decoded once; a decoded `/` or NUL inside one segment is refused. */
function decodeSegments(path: string): string[] {
  const raw = path.split("/").filter((segment) => segment !== "");
  return raw.map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new TetherError("bad_request", `invalid percent-encoding in path segment "${segment}"`);
    }
    if (decoded.includes("/") || decoded.includes("\0")) {
      throw new TetherError("bad_request", `invalid path segment "${decoded}"`);
    }
    return decoded;
  });
}

async function jsonBody(request: Request, inline?: Uint8Array): Promise<unknown> {
  const text = inline ? new TextDecoder().decode(inline) : await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new TetherError("bad_request", "the tool call's body is not JSON");
  }
}

function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** The `tether-file-mode` header: octal permission bits, e.g. "755". */
function fileMode(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (!/^[0-7]{1,4}$/.test(header)) {
    throw new TetherError(
      "bad_request",
      `${FILE_MODE_HEADER} must be octal permission bits like 644 or 755, not "${header}"`,
    );
  }
  return Number.parseInt(header, 8);
}

function notFound(request: Request, path: string): TetherError {
  return new TetherError("not_found", `no executor route for ${request.method} ${path}`);
}

function notAllowed(method: string, path: string): TetherError {
  return new TetherError("method_not_allowed", `${method} is not allowed on ${path}`);
}

/**
 * Client for orchestrators: create a sandbox, run Claude's tool_use blocks in it as a stream of
 * events, move files in and out. Works in Node 22, browsers and Workers (fetch only).
 *
 *   const tether = new TetherClient({ edge: "https://tether.example.com", token: apiToken });
 *   const sandbox = await tether.createSandbox({ id: "session-42" });
 *   for await (const event of sandbox.runToolCalls(toolUseBlocks)) if (event.event === "result") ...
 */
// The shapes the edge sends are declared once, by the schemas it validates against; type-only
// imports are erased, so the client itself still depends on nothing but fetch.
import type { ToolCallStreamEvent } from "../sandbox/tool-calls/events.ts";
import type { ToolResultBlock } from "../sandbox/tool-calls/tool-use-block.ts";
import { readNdjson } from "./ndjson.ts";

export type { ToolCallMeta } from "../sandbox/tool-calls/events.ts";
export type { ToolResultBlock };
export type ToolCallEvent = ToolCallStreamEvent;

/**
 * A `tool_use` block as the orchestrator got it from Claude. `input` stays `unknown` here (as in
 * Anthropic's SDK), so blocks can be forwarded unchanged; the edge validates it.
 */
export interface ToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

export interface CreateSandboxOptions {
  id?: string;
  ttl_seconds?: number;
  env?: Record<string, string>;
  files?: Record<string, string>;
  network?: { allow: string[] };
  /** Where tool calls run: at the edge (default), or on a gateway's executor inside your network. */
  backend?: { type: "edge" } | { type: "gateway"; tunnel: string; executor: string };
}

export class TetherApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.name = "TetherApiError";
    this.status = status;
    this.code = code;
  }
}

export class TetherClient {
  readonly edge: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;

  constructor(options: { edge: string; token: string; fetch?: typeof fetch }) {
    this.edge = options.edge.replace(/\/$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Creates the sandbox (idempotent for a given id) and returns a handle using its scoped token. */
  async createSandbox(options: CreateSandboxOptions = {}): Promise<SandboxHandle> {
    const res = await request(this.#fetch, `${this.edge}/v1/sandboxes`, this.#token, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(options),
    });
    const body = (await res.json()) as { id: string; token: string };
    return new SandboxHandle(this.edge, body.id, body.token, this.#fetch);
  }

  /** A handle on an existing sandbox, with a token valid for it. */
  sandbox(id: string, token = this.#token): SandboxHandle {
    return new SandboxHandle(this.edge, id, token, this.#fetch);
  }
}

export class SandboxHandle {
  readonly id: string;
  readonly token: string;
  readonly #base: string;
  readonly #fetch: typeof fetch;

  constructor(edge: string, id: string, token: string, fetcher: typeof fetch) {
    this.id = id;
    this.token = token;
    this.#base = `${edge}/v1/sandboxes/${encodeURIComponent(id)}`;
    this.#fetch = fetcher;
  }

  /** Runs the blocks in order, yielding events as the sandbox produces them. */
  async *runToolCalls(blocks: ToolUseBlock | ToolUseBlock[], signal?: AbortSignal): AsyncGenerator<ToolCallEvent> {
    const res = await request(this.#fetch, `${this.#base}/tool-calls`, this.token, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson" },
      body: JSON.stringify(blocks),
      signal: signal ?? null,
    });
    if (!res.body) throw new TetherApiError(res.status, undefined, "tool-calls response has no body");
    for await (const line of readNdjson(res.body)) yield line as ToolCallEvent;
  }

  /** Runs the blocks and returns just the tool_result blocks, ready for Claude's next user message. */
  async toolResults(blocks: ToolUseBlock[], signal?: AbortSignal): Promise<ToolResultBlock[]> {
    const results: ToolResultBlock[] = [];
    for await (const event of this.runToolCalls(blocks, signal))
      if (event.event === "result") results.push(event.result);
    return results;
  }

  async putFile(path: string, body: BodyInit): Promise<void> {
    const init: RequestInit & { duplex?: "half" } = { method: "PUT", body };
    if (body instanceof ReadableStream) init.duplex = "half";
    await request(this.#fetch, this.#fileUrl(path), this.token, init);
  }

  /** The file's bytes as a stream (not buffered). */
  async getFile(path: string): Promise<ReadableStream<Uint8Array>> {
    const res = await request(this.#fetch, this.#fileUrl(path), this.token, { method: "GET" });
    if (!res.body) throw new TetherApiError(res.status, undefined, "file response has no body");
    return res.body;
  }

  async readText(path: string): Promise<string> {
    return new Response(await this.getFile(path)).text();
  }

  /** The whole tree as a tar archive stream. */
  async exportTar(): Promise<ReadableStream<Uint8Array>> {
    const res = await request(this.#fetch, `${this.#base}/export.tar`, this.token, { method: "GET" });
    if (!res.body) throw new TetherApiError(res.status, undefined, "export response has no body");
    return res.body;
  }

  async info(): Promise<Record<string, unknown>> {
    const res = await request(this.#fetch, this.#base, this.token, { method: "GET" });
    return (await res.json()) as Record<string, unknown>;
  }

  async destroy(): Promise<void> {
    await request(this.#fetch, this.#base, this.token, { method: "DELETE" });
  }

  /** Relative paths are relative to the sandbox's working directory, /workspace, as in the tools. */
  #fileUrl(path: string): string {
    const absolute = path.startsWith("/") ? path : `/workspace/${path}`;
    const clean = absolute.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
    return `${this.#base}/files/${clean}`;
  }
}

async function request(fetcher: typeof fetch, url: string, token: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  const res = await fetcher(url, { ...init, headers });
  if (res.ok) return res;
  let code: string | undefined;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not a Tether error body; keep the status line.
  }
  throw new TetherApiError(res.status, code, message);
}

/**
 * Serves a stdio MCP server as an MCP Streamable HTTP endpoint: one child process per MCP session.
 *
 * An initialize POST without `Mcp-Session-Id` spawns a child and opens a session with a fresh id;
 * requests carrying that id go to it. Unknown or ended session → 404 (so clients re-initialize),
 * no session id on anything but initialize → 400, more than `maxChildren` sessions → 503, a child
 * that cannot start → 502 naming the server. Every error body is JSON-RPC.
 *
 * State: the table of live sessions (memory only; a gateway restart ends them all, and clients
 * then get 404 and re-initialize). Lifecycle: sessions come and go with their children;
 * `close()` ends them all and stops every child, after which requests get 502.
 */
import { readRequestBody } from "@modelcontextprotocol/sdk/server/requestBody.js";
import {
  isInitializeRequest,
  isJSONRPCRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { jsonRpcErrorResponse } from "../../errors/error-response.ts";
import { type ErrorCode, TetherError } from "../../errors/tether-error.ts";
import type { Upstream } from "../upstream.ts";
import { MAX_MESSAGE_BYTES } from "./child-process.ts";
import { ChildSession, type ChildSessionInfo, type MessageDirection } from "./child-session.ts";
import { DEFAULT_REPLAY_BOUNDS } from "./replay-buffer.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_CHILDREN,
  type StdioServerConfig,
} from "./stdio-config.ts";

export type { ChildSessionInfo, MessageDirection };

export interface StdioUpstreamOptions extends StdioServerConfig {
  name: string;
  allowPaths?: readonly string[];
  killGraceMs?: number;
  /** Where child stderr and adapter diagnostics go, one line at a time. Default: console.error. */
  log?: (line: string) => void;
  /** Sees every JSON-RPC message that crosses, in either direction. */
  onMessage?: (sessionId: string, direction: MessageDirection, message: JSONRPCMessage) => void;
}

export class StdioUpstream implements Upstream {
  readonly name: string;
  readonly kind = "stdio" as const;
  readonly allowPaths: readonly string[];
  readonly #options: StdioUpstreamOptions;
  readonly #sessions = new Map<string, ChildSession>();
  /** Sessions whose child is being spawned; they count toward `maxChildren` and `close` awaits them. */
  readonly #starting = new Set<Promise<ChildSession>>();
  #closed: Promise<void> | undefined;

  constructor(options: StdioUpstreamOptions) {
    this.name = options.name;
    this.allowPaths = options.allowPaths ?? [];
    this.#options = options;
  }

  /** The live sessions, for inspection. */
  sessions(): ChildSessionInfo[] {
    return [...this.#sessions.values()].map((session) => session.info());
  }

  async handle(request: Request, path: string, signal: AbortSignal): Promise<Response> {
    if (this.#closed) return this.#error("upstream_unavailable", `stdio server '${this.name}' is shut down`);
    if (path !== "") return this.#error("not_found", `stdio server '${this.name}' has no path '${path}'`);
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const session = this.#sessions.get(sessionId);
      if (!session) return this.#error("not_found", `MCP session not found on stdio server '${this.name}'`);
      return session.handle(request);
    }
    if (request.method === "POST") return this.#initialize(request, signal);
    if (request.method === "GET" || request.method === "DELETE") {
      return this.#error("bad_request", "Mcp-Session-Id header is required");
    }
    return jsonRpcErrorResponse(
      new TetherError("method_not_allowed", `method ${request.method} not allowed`, {
        headers: { Allow: "GET, POST, DELETE" },
      }),
    );
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      // A child being spawned lands in the table (or fails) first, so none escapes.
      await Promise.allSettled(this.#starting);
      const reason = `stdio server '${this.name}' is shutting down`;
      await Promise.all([...this.#sessions.values()].map((session) => session.end(reason)));
    })();
    return this.#closed;
  }

  /** A POST without a session: only an initialize request may open one. */
  async #initialize(request: Request, signal: AbortSignal): Promise<Response> {
    const body = await readRequestBody(request, MAX_MESSAGE_BYTES);
    if (body.tooLarge) return this.#error("payload_too_large", "request body too large");
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return this.#error("bad_request", "Parse error: request body is not JSON");
    }
    const initialize = (Array.isArray(parsed) ? parsed : [parsed]).find(
      (message): message is JSONRPCRequest => isJSONRPCRequest(message) && isInitializeRequest(message),
    );
    if (!initialize) return this.#error("bad_request", "Mcp-Session-Id header is required");
    const id = initialize.id;
    if (this.#sessions.size + this.#starting.size >= this.maxChildren) {
      return this.#error(
        "over_capacity",
        `stdio server '${this.name}' is at its limit of ${this.maxChildren} concurrent sessions; retry later`,
        id,
        { "Retry-After": "5" },
      );
    }

    const starting = ChildSession.start({
      id: crypto.randomUUID(),
      name: this.name,
      command: this.#options.command,
      args: this.#options.args ?? [],
      env: this.#options.env,
      cwd: this.#options.cwd,
      idleTimeoutMs: this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      killGraceMs: this.#options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      replay: {
        maxEvents: this.#options.replayMaxEvents ?? DEFAULT_REPLAY_BOUNDS.maxEvents,
        maxBytes: this.#options.replayMaxBytes ?? DEFAULT_REPLAY_BOUNDS.maxBytes,
      },
      log: this.#options.log ?? ((line) => console.error(line)),
      onMessage: this.#options.onMessage,
      onEnd: (ended) => {
        if (this.#sessions.get(ended.id) === ended) this.#sessions.delete(ended.id);
      },
    }).then((started) => {
      this.#sessions.set(started.id, started);
      return started;
    });
    this.#starting.add(starting);
    let session: ChildSession;
    try {
      session = await starting;
    } catch (error) {
      return jsonRpcErrorResponse(error, id);
    } finally {
      this.#starting.delete(starting);
    }
    if (this.#closed || signal.aborted) {
      await session.end(`stdio server '${this.name}' is shutting down`);
      return this.#error("upstream_unavailable", `stdio server '${this.name}' is shut down`, id);
    }

    const response = await session.handle(request, parsed);
    if (!response.ok) {
      // Initialize refused (bad headers, ...) or the child died before the transport answered:
      // nothing can use this session, and the reason a child died beats a bare 404.
      const reason = session.endReason;
      await session.end(`MCP initialize was refused by stdio server '${this.name}'`);
      if (reason) return this.#error("upstream_unavailable", reason, id);
    }
    return response;
  }

  get maxChildren(): number {
    return this.#options.maxChildren ?? DEFAULT_MAX_CHILDREN;
  }

  #error(code: ErrorCode, message: string, id: RequestId | null = null, headers?: Record<string, string>): Response {
    return jsonRpcErrorResponse(new TetherError(code, message, { headers }), id);
  }
}

/**
 * An MCP server reached over Streamable HTTP inside the private network. Each relayed request
 * becomes one HTTP exchange with the configured endpoint (or an allowed path below it; Node's own
 * client with a keep-alive agent, see ./http-exchange.ts), with the body streamed both ways and the
 * server's configured headers added: credentials for the upstream live here, never at the edge or
 * with the agent. Everything else passes unchanged (the edge already dropped hop-by-hop headers
 * and its own token).
 */
import type { Agent } from "node:http";
import { TetherError } from "../errors/tether-error.ts";
import { exchange, keepAliveAgent } from "./http-exchange.ts";
import type { Upstream } from "./upstream.ts";

export interface HttpUpstreamOptions {
  name: string;
  /** The MCP endpoint, e.g. http://10.1.2.3:8080/mcp. */
  url: string;
  /** Added to every request, replacing any header of the same name the agent sent. */
  headers?: Readonly<Record<string, string>>;
  allowPaths?: readonly string[];
}

export class HttpUpstream implements Upstream {
  readonly name: string;
  readonly kind = "http" as const;
  readonly allowPaths: readonly string[];
  readonly #endpoint: URL;
  /** The configured headers, names in lower case (they replace the agent's of the same name). */
  readonly #headers: ReadonlyArray<[string, string]>;
  readonly #closing = new AbortController();
  /** Connections to the upstream are kept alive and reused across calls. */
  readonly #agent: Agent;

  constructor(options: HttpUpstreamOptions) {
    this.name = options.name;
    this.#endpoint = new URL(options.url);
    this.#headers = Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
    this.allowPaths = options.allowPaths ?? [];
    this.#agent = keepAliveAgent(this.#endpoint);
  }

  async handle(request: Request, path: string, signal: AbortSignal, body?: Uint8Array): Promise<Response> {
    if (this.#closing.signal.aborted)
      throw new TetherError("upstream_unavailable", `server "${this.name}" is shut down`);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of request.headers) headers[name] = value;
    for (const [name, value] of this.#headers) headers[name] = value;
    // Compression inside the network only costs CPU twice (and the relay would decode it anyway).
    headers["accept-encoding"] = "identity";
    const abort = AbortSignal.any([signal, this.#closing.signal]);
    try {
      return await exchange({
        url: this.#target(path, new URL(request.url).search),
        method: request.method,
        headers,
        body: body ?? request.body,
        agent: this.#agent,
        signal: abort,
      });
    } catch (error) {
      if (abort.aborted) throw new TetherError("upstream_unavailable", `the call to "${this.name}" was aborted`);
      throw new TetherError("upstream_unavailable", `server "${this.name}" is unreachable (${networkReason(error)})`, {
        cause: error,
      });
    }
  }

  /** Aborts every request in flight, response bodies included, and closes idle connections. */
  async close(): Promise<void> {
    this.#closing.abort(new Error(`server "${this.name}" is shutting down`));
    this.#agent.destroy();
  }

  /** The endpoint itself for "", else the path below it (the edge and the stream checked it is allowed). */
  #target(path: string, search: string): URL {
    if (path === "" && search === "") return this.#endpoint;
    const url = new URL(this.#endpoint);
    if (path !== "") url.pathname = `${url.pathname.replace(/\/$/, "")}${path}`;
    url.search = search;
    return url;
  }
}

/** "ECONNREFUSED", "ENOTFOUND", ... from fetch's TypeError("fetch failed") and its cause. */
function networkReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}

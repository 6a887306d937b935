/**
 * An MCP server reached over Streamable HTTP inside the private network. Each relayed request
 * becomes one fetch to the configured endpoint (or an allowed path below it), with the body
 * streamed both ways and the server's configured headers added: credentials for the upstream
 * live here, never at the edge or with the agent. Everything else passes unchanged (the edge
 * already dropped hop-by-hop headers and its own token).
 */
import { TetherError } from "../errors/tether-error.ts";
import type { Upstream } from "./upstream.ts";

export interface HttpUpstreamOptions {
  name: string;
  /** The MCP endpoint, e.g. http://10.1.2.3:8080/mcp. */
  url: string;
  /** Added to every request, replacing any header of the same name the agent sent. */
  headers?: Readonly<Record<string, string>>;
  allowPaths?: readonly string[];
}

/** Codings fetch decodes on its own: the relayed bytes are then plain, so the header must go. */
const DECODED_CODINGS = new Set(["gzip", "x-gzip", "deflate", "br"]);
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export class HttpUpstream implements Upstream {
  readonly name: string;
  readonly kind = "http" as const;
  readonly allowPaths: readonly string[];
  readonly #endpoint: URL;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #closing = new AbortController();

  constructor(options: HttpUpstreamOptions) {
    this.name = options.name;
    this.#endpoint = new URL(options.url);
    this.#headers = options.headers ?? {};
    this.allowPaths = options.allowPaths ?? [];
  }

  async handle(request: Request, path: string, signal: AbortSignal, body?: Uint8Array): Promise<Response> {
    if (this.#closing.signal.aborted)
      throw new TetherError("upstream_unavailable", `server "${this.name}" is shut down`);
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(this.#headers)) headers.set(name, value);
    // fetch would decompress anyway; inside the network compression only costs CPU twice.
    headers.set("accept-encoding", "identity");
    const abort = AbortSignal.any([signal, this.#closing.signal]);
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers,
      // A body known whole goes with its length; only a body still arriving is streamed (chunked).
      body: body ?? request.body,
      redirect: "manual",
      signal: abort,
    };
    if (!body && request.body) init.duplex = "half";
    try {
      const response = await fetch(this.#target(path, new URL(request.url).search), init);
      return relayable(response);
    } catch (error) {
      if (abort.aborted) throw new TetherError("upstream_unavailable", `the call to "${this.name}" was aborted`);
      throw new TetherError("upstream_unavailable", `server "${this.name}" is unreachable (${networkReason(error)})`, {
        cause: error,
      });
    }
  }

  /** Aborts every request in flight, response bodies included. */
  async close(): Promise<void> {
    this.#closing.abort(new Error(`server "${this.name}" is shutting down`));
  }

  /** The endpoint itself for "", else the path below it (the edge and the stream checked it is allowed). */
  #target(path: string, search: string): URL | string {
    if (path === "" && search === "") return this.#endpoint.href;
    const url = new URL(this.#endpoint);
    if (path !== "") url.pathname = `${url.pathname.replace(/\/$/, "")}${path}`;
    url.search = search;
    return url;
  }
}

/** The response as the edge may relay it; rebuilt only when something must change. */
function relayable(response: Response): Response {
  const coding = response.headers.get("content-encoding")?.trim().toLowerCase();
  const decoded = coding !== undefined && DECODED_CODINGS.has(coding);
  const nullBody = NULL_BODY_STATUS.has(response.status);
  if (!decoded && (!nullBody || response.body === null)) return response;
  const headers = new Headers(response.headers);
  if (decoded) {
    headers.delete("content-encoding");
    headers.delete("content-length");
  }
  const body = nullBody ? null : response.body;
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
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

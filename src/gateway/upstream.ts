/**
 * What the gateway relays tunnel streams to: one per configured server, and one per executor. An
 * HTTP upstream forwards to an MCP Streamable HTTP URL; a stdio upstream serves a child process
 * behind an MCP HTTP adapter; an executor serves its sandboxes' wire API. All take a web-standard
 * Request and answer a Response whose body streams.
 */
export type UpstreamKind = "http" | "stdio" | "executor";

/**
 * `K` narrows the kind: a configured server's upstream (the default) is "http" or "stdio", what
 * Hello lists under servers; an executor (`executor:NAME`, ./executor/executor-upstream.ts) is
 * `Upstream<"executor">`; code relaying to any of them takes `Upstream<UpstreamKind>`.
 */
export interface Upstream<K extends UpstreamKind = "http" | "stdio"> {
  readonly name: string;
  readonly kind: K;
  /** Extra paths (below the server's endpoint) agents may reach besides the MCP endpoint itself. */
  readonly allowPaths: readonly string[];
  /**
   * Handles one relayed request. `path` is "" for the MCP endpoint, else an allowed extra path.
   * Aborting `signal` cancels the upstream work. `body`, when given, is the request's whole body
   * (the request's own body stream carries the same bytes): an upstream may send it as is, with a
   * known length, instead of streaming it. Rejects with a TetherError when the upstream is
   * unreachable ("upstream_unavailable") so the edge can answer 502 naming the server.
   */
  handle(request: Request, path: string, signal: AbortSignal, body?: Uint8Array): Promise<Response>;
  /** Stops everything the upstream started (children, sockets). Idempotent. */
  close(): Promise<void>;
}

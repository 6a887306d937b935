/**
 * What the edge Worker hands the relay for one agent request, after the boundary checks it can do
 * without state (token shape and scope, body size, MCP parsing, header filtering). The relay does
 * the rest: token hash, Origin, session, gateway choice.
 */
import type { McpRequestInfo } from "../../src/mcp/request-info.ts";
import type { HeaderList, Open } from "../../src/protocol/messages.ts";

export interface RelayRequest {
  /** SHA-256 of the agent token (hashed in the Worker, so the relay spends no CPU on it). */
  tokenHash: string;
  server: string;
  /** "" for the MCP endpoint, else the extra path below it (starts with "/"). */
  path: string;
  method: string;
  /** Query string including "?", or "". */
  query: string;
  /** Already filtered for the upstream (see ./forward-headers.ts). */
  headers: HeaderList;
  /** The agent's Origin header, if any. */
  origin: string | null;
  /** The edge's own origin (scheme://host), always allowed. */
  edgeOrigin: string;
  sessionId: string | null;
  body: Uint8Array | null;
  mcp: McpRequestInfo;
}

/** The Open frame that starts the request's stream. */
export function openFor(request: RelayRequest): Open {
  return {
    server: request.server,
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers,
    hasBody: request.body !== null && request.body.byteLength > 0,
  };
}

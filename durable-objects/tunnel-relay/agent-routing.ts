/**
 * Which gateway connection serves an agent request. A request in an MCP session goes to the
 * gateway that created the session, and only with the agent token that created it; anything
 * else about a session answers 404 so MCP clients re-initialize. A request without a session goes
 * to the least busy gateway that announced the server (and the extra path, if any).
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import type { GatewayConnection } from "./gateway-connection.ts";
import type { GatewayPool } from "./gateway-pool.ts";
import type { RelayRequest } from "./relay-request.ts";
import type { SessionRecord, SessionStore } from "./session-store.ts";

export const NO_GATEWAY_RETRY_AFTER_S = 5;

export interface Route {
  connection: GatewayConnection;
  session: SessionRecord | null;
}

export function routeAgentRequest(
  pool: GatewayPool,
  sessions: SessionStore,
  request: RelayRequest,
  tokenId: string,
): Route {
  if (request.sessionId !== null) return routeSession(pool, sessions, request, tokenId);
  const ready = pool.ready();
  if (ready.length === 0) {
    throw new TetherError("no_gateway", "no gateway is connected to this tunnel; retry shortly", {
      headers: { "Retry-After": String(NO_GATEWAY_RETRY_AFTER_S) },
    });
  }
  const connection = pool.pick(request.server, request.path);
  if (!connection) throw unknownTarget(ready, request);
  return { connection, session: null };
}

function routeSession(pool: GatewayPool, sessions: SessionStore, request: RelayRequest, tokenId: string): Route {
  const sessionId = request.sessionId as string;
  const session = sessions.get(request.server, sessionId);
  // Another token's session is reported exactly like an unknown one: ids do not leak across tokens.
  if (!session || session.tokenId !== tokenId) {
    throw new TetherError("not_found", "unknown or expired MCP session; initialize a new one");
  }
  const connection = pool.forGateway(session.gatewayId);
  if (!connection?.allowsPath(request.server, request.path)) {
    throw new TetherError("not_found", "the MCP session's gateway is gone; initialize a new session");
  }
  return { connection, session };
}

function unknownTarget(ready: GatewayConnection[], request: RelayRequest): TetherError {
  const announced = ready.some((connection) => connection.server(request.server));
  return announced
    ? new TetherError("not_found", `MCP server "${request.server}" does not expose ${request.path}`)
    : new TetherError("not_found", `no MCP server "${request.server}" is connected to this tunnel`);
}

/** An Origin header must be the edge's own origin or one the tunnel allows (DNS-rebinding defence). */
export function checkOrigin(origin: string | null, edgeOrigin: string, allowed: readonly string[]): void {
  if (origin === null || isOriginAllowed(origin, edgeOrigin, allowed)) return;
  throw forbiddenOrigin(origin);
}

export function isOriginAllowed(origin: string, edgeOrigin: string, allowed: readonly string[]): boolean {
  return origin === edgeOrigin || allowed.includes(origin);
}

export function forbiddenOrigin(origin: string): TetherError {
  return new TetherError("forbidden_origin", `Origin ${origin} is not allowed to call this tunnel`);
}

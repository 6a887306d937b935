/**
 * An operator ends an MCP session (`TunnelRelay.endSession`): the edge forgets it at once (the
 * next call with its id gets 404, so the agent initializes a new one), and when the gateway the
 * session sticks to is connected, the upstream gets the DELETE a client would send to end it
 * (Streamable HTTP), relayed like an agent's call. The upstream's answer is reported, never
 * needed: forgetting at the edge is what ends the session for agents.
 */
import { asTetherError } from "../../src/errors/error-response.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { MCP_PROTOCOL_VERSION, MCP_SESSION_ID } from "../../src/mcp/headers.ts";
import type { GatewayPool } from "./gateway-pool.ts";
import { RelayCall } from "./relay-call.ts";
import type { SessionStore } from "./session-store.ts";

export interface EndedSession {
  server: string;
  id: string;
  /**
   * What the upstream was told: `deleted` (it answered 2xx), `refused` (another status, e.g. 405:
   * it does not let clients end sessions), `not_connected` (the session's gateway is gone: only
   * forgotten here), or `failed` (the DELETE could not be relayed).
   */
  upstream: "deleted" | "refused" | "not_connected" | "failed";
  /** The upstream's status, or the failure, for operators. */
  detail: string | null;
}

export async function endSession(
  pool: GatewayPool,
  sessions: SessionStore,
  server: string,
  id: string,
  keepAliveMs: number,
): Promise<EndedSession> {
  const session = sessions.get(server, id);
  if (!session) throw new TetherError("not_found", `no MCP session "${id}" on server "${server}"`);
  sessions.remove(server, id);
  const connection = pool.forGateway(session.gatewayId);
  if (!connection?.allowsPath(server, "")) return { server, id, upstream: "not_connected", detail: null };
  const headers: [string, string][] = [[MCP_SESSION_ID, id]];
  if (session.protocolVersion) headers.push([MCP_PROTOCOL_VERSION, session.protocolVersion]);
  try {
    const response = await new RelayCall(connection, {
      server,
      open: { server, method: "DELETE", path: "", query: "", headers, hasBody: false },
      body: null,
      keepAliveMs,
      failureEvent: () => null,
      onHead: () => {},
      onDone: () => {},
    }).start();
    await response.body?.cancel();
    const status = String(response.status);
    return { server, id, upstream: response.ok ? "deleted" : "refused", detail: status };
  } catch (error) {
    return { server, id, upstream: "failed", detail: asTetherError(error).message };
  }
}

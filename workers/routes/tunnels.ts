/**
 * The tunnel's public endpoints:
 *
 *   GET /t/:tunnel/connect                  a gateway's WebSocket (gateway token)
 *   ANY /t/:tunnel/:server/mcp              an agent's MCP Streamable HTTP endpoint (agent token)
 *   ANY /t/:tunnel/:server/mcp/<path>       an extra upstream path, only if the gateway allows it
 *   OPTIONS (CORS preflight) on both        answered here for the tunnel's allowed origins, else 403
 *
 * Here are the checks that need no state: the token's shape, kind and scope (a token for another
 * tunnel gets the same 404 as a tunnel that does not exist, so names do not leak), the body limit,
 * MCP parsing and header filtering. The tunnel's TunnelRelay does the rest.
 *
 * Refusals made here come before any token is verified, so they are the same for every tunnel,
 * existing or not: their CORS headers name any Origin (a page may read the error, which says
 * nothing about the tunnel) instead of asking the tunnel which origins it allows.
 */
import { Hono } from "hono";
import { forbiddenOrigin } from "../../durable-objects/tunnel-relay/agent-routing.ts";
import { allowOrigin, isPreflight, preflightResponse } from "../../durable-objects/tunnel-relay/cors.ts";
import { upstreamRequestHeaders } from "../../durable-objects/tunnel-relay/forward-headers.ts";
import type { TunnelRelay } from "../../durable-objects/tunnel-relay.ts";
import { type BearerCredential, bearerCredential, unauthorized } from "../../src/auth/bearer.ts";
import { hashToken, parseToken, type TokenKind } from "../../src/auth/tokens.ts";
import { jsonRpcErrorResponse } from "../../src/errors/error-response.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { readBoundedBody } from "../../src/http/read-bounded-body.ts";
import { MCP_SESSION_ID } from "../../src/mcp/headers.ts";
import { inspectMcpRequest } from "../../src/mcp/request-info.ts";
import { ServerNameSchema } from "../../src/protocol/messages.ts";
import type { EdgeEnv, Env } from "../env.ts";
import { type AgentPath, parseAgentPath } from "./agent-path.ts";

/** Largest agent request body relayed (MCP messages are small; this bounds what the edge buffers). */
export const MAX_AGENT_BODY_BYTES = 4 * 1024 * 1024;

export const TUNNEL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const tunnelsRoutes = new Hono<EdgeEnv>();

export function tunnelStub(env: Env, name: string): DurableObjectStub<TunnelRelay> {
  return env.TUNNEL_RELAY.getByName(name);
}

/** The relay of a name that can exist; a name that cannot is 404 without touching storage. */
export function namedTunnelStub(env: Env, name: string): DurableObjectStub<TunnelRelay> {
  if (!TUNNEL_NAME_PATTERN.test(name)) throw tunnelNotFound();
  return tunnelStub(env, name);
}

/** The one answer for "no such tunnel", whether it is missing or the token belongs elsewhere. */
export function tunnelNotFound(): TetherError {
  return new TetherError("not_found", "no such tunnel");
}

/** The caller's token, checked for shape, kind and scope; its secret is checked by the relay. */
function scopedToken(headers: Headers, tunnel: string, kind: TokenKind, what: string): BearerCredential {
  const credential = bearerCredential(headers);
  if (!credential) throw unauthorized(`missing ${what} token`);
  const parsed = parseToken(credential.token);
  if (!parsed) throw unauthorized(`malformed ${what} token`);
  if (parsed.scope !== tunnel) throw tunnelNotFound();
  if (parsed.kind !== kind) throw unauthorized(`not a ${what} token`);
  if (!TUNNEL_NAME_PATTERN.test(tunnel)) throw tunnelNotFound();
  return credential;
}

tunnelsRoutes.get("/:tunnel/connect", (c) => {
  const tunnel = c.req.param("tunnel");
  scopedToken(c.req.raw.headers, tunnel, "gw", "gateway");
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new TetherError("bad_request", "a gateway connects with a WebSocket upgrade");
  }
  return tunnelStub(c.env, tunnel).fetch(c.req.raw);
});

// Hono's params are decoded; the handler reads the raw path itself (./agent-path.ts).
tunnelsRoutes.all("/:tunnel/:server/mcp", (c) => agentRequest(c.req.raw, c.env));
tunnelsRoutes.all("/:tunnel/:server/mcp/*", (c) => agentRequest(c.req.raw, c.env));

async function agentRequest(request: Request, env: Env): Promise<Response> {
  try {
    const target = parseAgentPath(new URL(request.url).pathname);
    if (!target) throw new TetherError("not_found", "no such route");
    if (isPreflight(request)) return await preflight(request, env, target.tunnel);
    return await relayAgentRequest(request, env, target);
  } catch (error) {
    return corsForRefusal(request, jsonRpcErrorResponse(error));
  }
}

/** Answers a browser's CORS preflight for an origin the tunnel allows; 403 for any other. */
async function preflight(request: Request, env: Env, tunnel: string): Promise<Response> {
  const origin = request.headers.get("origin") ?? "";
  if (await originAllowed(env, tunnel, origin, new URL(request.url).origin)) return preflightResponse(origin);
  return jsonRpcErrorResponse(forbiddenOrigin(origin));
}

/**
 * A refusal made here (401 for a missing token, 404, 413) must still be readable by a browser
 * page, or the client only sees an opaque network error; it is readable by any page alike, so
 * that its headers do not tell which tunnels exist or which origins they allow.
 */
function corsForRefusal(request: Request, response: Response): Response {
  const origin = request.headers.get("origin");
  return origin === null ? response : allowOrigin(response, origin);
}

async function originAllowed(env: Env, tunnel: string, origin: string, edgeOrigin: string): Promise<boolean> {
  if (origin === edgeOrigin) return true;
  return TUNNEL_NAME_PATTERN.test(tunnel) && (await tunnelStub(env, tunnel).allowsOrigin(origin, edgeOrigin));
}

/** Checks what needs no state and hands the request to the tunnel's relay (which answers every failure itself). */
async function relayAgentRequest(request: Request, env: Env, { tunnel, server, path }: AgentPath): Promise<Response> {
  const credential = scopedToken(request.headers, tunnel, "ag", "agent");
  if (!ServerNameSchema.safeParse(server).success) {
    throw new TetherError("not_found", `no MCP server "${server}" is connected to this tunnel`);
  }
  const url = new URL(request.url);
  const body = await readBoundedBody(request, MAX_AGENT_BODY_BYTES, "request body");
  const headers = request.headers;
  return await tunnelStub(env, tunnel).relay({
    tokenHash: await hashToken(credential.token),
    server,
    path,
    method: request.method,
    query: url.search,
    headers: upstreamRequestHeaders(headers, credential.from),
    origin: headers.get("origin"),
    edgeOrigin: url.origin,
    sessionId: headers.get(MCP_SESSION_ID),
    body,
    mcp: inspectMcpRequest(request.method === "POST" ? headers.get("content-type") : null, body),
  });
}

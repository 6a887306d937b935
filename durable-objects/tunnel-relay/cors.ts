/**
 * CORS for browser-based MCP clients (MCP Inspector, agents running in a web page) on the agent
 * endpoint. Before a cross-origin request that carries Authorization or MCP's own headers, a
 * browser sends a preflight (OPTIONS, without credentials) and only proceeds if the answer names
 * its origin; afterwards the page may only read a response that names its origin too, and only the
 * response headers listed as exposed (the client needs Mcp-Session-Id to continue its session).
 *
 * The policy is the tunnel's `allowedOrigins` plus the edge's own origin, the same list the relay
 * enforces on every request (403 for any other Origin, see ./agent-routing.ts). The edge owns the
 * policy: CORS headers an upstream server sent are replaced, never passed on.
 */

/** Request headers an MCP client sends (Streamable HTTP) plus the edge's own token header. */
const ALLOW_HEADERS = [
  "Authorization",
  "X-Tether-Token",
  "Content-Type",
  "Accept",
  "Mcp-Session-Id",
  "MCP-Protocol-Version",
  "Last-Event-ID",
].join(", ");
/** Response headers the page may read: the session id, and the 401 challenge for clients that do OAuth. */
const EXPOSE_HEADERS = ["Mcp-Session-Id", "MCP-Protocol-Version", "WWW-Authenticate"].join(", ");
const ALLOW_METHODS = "GET, POST, DELETE, OPTIONS";
/** How long a browser may cache a preflight answer (a change to allowedOrigins shows after this). */
const PREFLIGHT_MAX_AGE_S = 600;

/** A CORS preflight, as opposed to an OPTIONS request meant for the upstream server. */
export function isPreflight(request: Request): boolean {
  return (
    request.method === "OPTIONS" &&
    request.headers.has("origin") &&
    request.headers.has("access-control-request-method")
  );
}

/** The answer to a preflight from an allowed origin. */
export function preflightResponse(origin: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": ALLOW_METHODS,
      "Access-Control-Allow-Headers": ALLOW_HEADERS,
      "Access-Control-Expose-Headers": EXPOSE_HEADERS,
      "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE_S),
      Vary: "Origin",
    },
  });
}

/**
 * Lets the page at `origin` (already found allowed) read `response`. The headers are changed in
 * place, so a relayed body is not re-wrapped (it streams as the gateway sends it).
 */
export function allowOrigin(response: Response, origin: string): Response {
  for (const name of [...response.headers.keys()]) {
    if (name.startsWith("access-control-")) response.headers.delete(name);
  }
  response.headers.set("Access-Control-Allow-Origin", origin);
  response.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  response.headers.append("Vary", "Origin");
  return response;
}

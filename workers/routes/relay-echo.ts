/**
 *   GET /admin/tunnels/:name/echo   (admin token, WebSocket upgrade) → a socket on the tunnel's
 *                                   relay that echoes every message (durable-objects/tunnel-relay/
 *                                   echo-socket.ts): the relay's floor for benchmarks and operators.
 */
import { Hono } from "hono";
import { requireAdmin } from "../../src/auth/bearer.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import type { Env } from "../env.ts";
import { TUNNEL_NAME_PATTERN, tunnelNotFound, tunnelStub } from "./tunnels.ts";

export const relayEchoRoutes = new Hono<{ Bindings: Env }>();

relayEchoRoutes.get("/tunnels/:name/echo", (c) => {
  requireAdmin(c.req.raw.headers, c.env.TETHER_ADMIN_TOKEN);
  const name = c.req.param("name");
  if (!TUNNEL_NAME_PATTERN.test(name)) throw tunnelNotFound();
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new TetherError("bad_request", "the echo socket needs a WebSocket upgrade");
  }
  return tunnelStub(c.env, name).fetch(c.req.raw);
});

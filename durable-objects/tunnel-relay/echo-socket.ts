/**
 * An admin-only WebSocket on a tunnel's relay that sends every message straight back: the cost of
 * one WebSocket hop into this Durable Object and out again, with no framing, state or storage.
 * Benchmarks put the tunnel's numbers beside it as the relay's floor.
 *
 * The Worker forwards `GET /admin/tunnels/:name/echo` here (workers/routes/relay-echo.ts); the
 * admin token is checked again so nothing else reaching the relay can open one. The socket is
 * accepted without hibernation on purpose: it lives only while an operator's tool holds it, and
 * keeping it out of the hibernation handlers means the gateway code never sees it.
 */
import { requireAdmin } from "../../src/auth/bearer.ts";
import { errorResponse } from "../../src/errors/error-response.ts";
import { TetherError } from "../../src/errors/tether-error.ts";

/** The path the Worker's echo route forwards (gateways only ever reach the relay at /t/:name/connect). */
export const ECHO_PATH = /^\/admin\/tunnels\/[^/]+\/echo$/;

export function isEchoRequest(request: Request): boolean {
  return ECHO_PATH.test(new URL(request.url).pathname);
}

/** Answers the upgrade with a socket that echoes text and binary messages until either side closes. */
export function acceptEchoSocket(request: Request, adminToken: string | undefined): Response {
  try {
    requireAdmin(request.headers, adminToken);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new TetherError("bad_request", "the echo socket needs a WebSocket upgrade");
    }
    const { 0: client, 1: server } = new WebSocketPair();
    // Binary messages as ArrayBuffers (the default may be Blob), so they go back byte for byte.
    server.binaryType = "arraybuffer";
    server.accept();
    server.addEventListener("message", (event) => {
      try {
        server.send(event.data);
      } catch {
        // Closing meanwhile: nothing to echo to.
      }
    });
    server.addEventListener("close", (event) => {
      try {
        server.close(event.code === 1005 ? 1000 : event.code, "echo closed");
      } catch {
        // Already closed.
      }
    });
    return new Response(null, { status: 101, webSocket: client });
  } catch (error) {
    return errorResponse(error);
  }
}

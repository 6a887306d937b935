/**
 * A Worker for benchmarks and their tests only, never part of the deployed edge: it runs beside
 * the edge in the same workerd (test/helpers/edge.ts, `workers` option) and gives the cost of one
 * WebSocket hop into a Durable Object and out again, with no framing, state or storage. The tunnel
 * benchmark puts the relay's numbers beside it as the floor.
 *
 *   GET /bench/echo/:name   (WebSocket upgrade) → a socket on the Durable Object :name that
 *                           sends every message straight back until either side closes
 *
 * The socket is accepted without hibernation, as a relay's socket would be while busy: it lives
 * only while the benchmark holds it.
 */

interface EchoEnv {
  ECHO: DurableObjectNamespace;
}

export const ECHO_ROUTE = /^\/bench\/echo\/([a-z0-9-]{1,63})$/;

export default {
  fetch(request: Request, env: EchoEnv): Response | Promise<Response> {
    const name = ECHO_ROUTE.exec(new URL(request.url).pathname)?.[1];
    if (!name) return Response.json({ error: "no such route" }, { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: "the echo socket needs a WebSocket upgrade" }, { status: 400 });
    }
    return env.ECHO.get(env.ECHO.idFromName(name)).fetch(request);
  },
};

export class EchoSocket {
  fetch(): Response {
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
  }
}

/**
 * A tiny node:http server on 127.0.0.1 that hands each request to a web-standard handler
 * (Request → Response) and streams the response body chunk by chunk, as it is produced, so SSE
 * stays SSE. When the client goes away, the handler's signal aborts and the body is cancelled.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

export type WebHandler = (request: Request, signal: AbortSignal) => Promise<Response>;

export interface WebHttpServer {
  url: string;
  close(): Promise<void>;
}

export async function serveWeb(handler: WebHandler): Promise<WebHttpServer> {
  const server = createServer((req, res) => {
    void relay(handler, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function relay(handler: WebHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort(new Error("client went away"));
  });
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
      signal: abort.signal,
    } as RequestInit);
    const response = await handler(request, abort.signal);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.flushHeaders();
    if (!response.body) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    const cancel = () => void reader.cancel().catch(() => {});
    if (abort.signal.aborted) cancel();
    else abort.signal.addEventListener("abort", cancel);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  } catch (error) {
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    } else if (res.socket) {
      // Like a connection that breaks: what was already written still reaches the client, then the
      // socket closes without ending the body, so the client's read fails after those bytes.
      res.socket.destroySoon();
    } else {
      res.destroy();
    }
  }
}

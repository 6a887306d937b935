import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, expect, test } from "vitest";
import { isTetherError } from "../../src/errors/tether-error.ts";
import { HttpUpstream } from "../../src/gateway/http-upstream.ts";
import { UPSTREAM_REQUEST_ORIGIN } from "../../src/gateway/tunnel-stream.ts";
import { within } from "../helpers/stdio-fixtures.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const never = new AbortController().signal;
const relayed = (path: string, init: RequestInit & { duplex?: "half" } = {}) =>
  new Request(`${UPSTREAM_REQUEST_ORIGIN}${path}`, init);

test("forwards to the endpoint with the query, adds the configured headers, streams the body", async () => {
  const origin = await serve(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ url: req.url, method: req.method, headers: req.headers, body }));
  });
  const upstream = new HttpUpstream({
    name: "docs",
    url: `${origin}/api/mcp`,
    headers: { authorization: "Bearer inside-secret", "x-team": "core" },
  });
  const chunks = ['{"jsonrpc":', '"2.0"}'];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(new TextEncoder().encode(next));
    },
  });
  const response = await upstream.handle(
    relayed("/?x=1", {
      method: "POST",
      headers: {
        authorization: "Bearer from-agent",
        accept: "application/json, text/event-stream",
        "mcp-session-id": "s1",
      },
      body,
      duplex: "half",
    }),
    "",
    never,
  );
  const seen = (await response.json()) as {
    url: string;
    method: string;
    headers: Record<string, string>;
    body: string;
  };
  expect(seen.url).toBe("/api/mcp?x=1");
  expect(seen.method).toBe("POST");
  expect(seen.body).toBe('{"jsonrpc":"2.0"}');
  expect(seen.headers.authorization).toBe("Bearer inside-secret");
  expect(seen.headers["x-team"]).toBe("core");
  expect(seen.headers["mcp-session-id"]).toBe("s1");
  expect(seen.headers.accept).toBe("application/json, text/event-stream");
  expect(seen.headers["accept-encoding"]).toBe("identity");
});

test("an allowed extra path is resolved below the endpoint", async () => {
  const origin = await serve((req, res) => res.end(req.url));
  const upstream = new HttpUpstream({ name: "docs", url: `${origin}/mcp/`, allowPaths: ["/.well-known/*"] });
  const response = await upstream.handle(
    relayed("/.well-known/oauth-protected-resource"),
    "/.well-known/oauth-protected-resource",
    never,
  );
  expect(await response.text()).toBe("/mcp/.well-known/oauth-protected-resource");
});

test("a compressed answer arrives decoded, without the content-encoding that would misdescribe it", async () => {
  const origin = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
    res.end(gzipSync("plain text"));
  });
  const response = await new HttpUpstream({ name: "docs", url: origin }).handle(relayed("/"), "", never);
  expect(response.headers.get("content-encoding")).toBeNull();
  expect(await response.text()).toBe("plain text");
});

test("hop-by-hop headers stop here, as at the edge: the standard ones and those Connection lists", async () => {
  const origin = await serve((_req, res) => {
    res.setHeader("connection", "keep-alive, X-Hop");
    res.setHeader("x-hop", "connection-only");
    res.setHeader("proxy-authenticate", 'Basic realm="inner"');
    res.setHeader("x-kept", "yes");
    res.end("ok");
  });
  const response = await new HttpUpstream({ name: "docs", url: origin }).handle(relayed("/"), "", never);
  expect(await response.text()).toBe("ok");
  const names = [...response.headers.keys()];
  expect(names).toContain("x-kept");
  for (const name of ["connection", "keep-alive", "x-hop", "proxy-authenticate"]) expect(names).not.toContain(name);
});

test("redirects and errors are relayed as they are, not followed or hidden", async () => {
  const origin = await serve((req, res) => {
    if (req.url === "/moved") res.writeHead(307, { location: "/elsewhere" }).end();
    else res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no session"}');
  });
  const moved = await new HttpUpstream({ name: "docs", url: `${origin}/moved` }).handle(relayed("/"), "", never);
  expect([moved.status, moved.headers.get("location")]).toEqual([307, "/elsewhere"]);
  const missing = await new HttpUpstream({ name: "docs", url: `${origin}/mcp` }).handle(relayed("/"), "", never);
  expect([missing.status, await missing.text()]).toEqual([404, '{"error":"no session"}']);
});

test("an upstream that refuses connections is a TetherError upstream_unavailable naming the server", async () => {
  const origin = await serve(() => {});
  server?.close();
  server = undefined;
  const failure = await new HttpUpstream({ name: "docs", url: `${origin}/mcp` })
    .handle(relayed("/"), "", never)
    .catch((error: unknown) => error);
  expect(isTetherError(failure) && [failure.code, failure.status, failure.message]).toEqual([
    "upstream_unavailable",
    502,
    'server "docs" is unreachable (ECONNREFUSED)',
  ]);
});

test("aborting the call, or closing the upstream, stops a response in flight", async () => {
  const origin = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: first\n\n");
  });
  const upstream = new HttpUpstream({ name: "docs", url: origin });
  const abort = new AbortController();
  const response = await upstream.handle(relayed("/"), "", abort.signal);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: first\n\n");
  abort.abort(new Error("agent went away"));
  await expect(within(reader.read(), 5_000, "the aborted read")).rejects.toThrow();

  const second = await upstream.handle(relayed("/"), "", never);
  const secondReader = (second.body as ReadableStream<Uint8Array>).getReader();
  await secondReader.read();
  await upstream.close();
  await expect(within(secondReader.read(), 5_000, "the read after close")).rejects.toThrow();
  await expect(upstream.handle(relayed("/"), "", never)).rejects.toMatchObject({ code: "upstream_unavailable" });
});

/**
 * The tunnel's edges with a real gateway process and a real upstream: a node:http server on
 * 127.0.0.1 that routes the way many servers do, percent-decoding the whole path (`%2F` becomes a
 * separator) and then resolving `..`. Through the tunnel it receives no Tether token whatever the
 * agent sends, no smuggled path reaches it, its cookies reach no agent, and encoded tunnel and
 * server names reach the right path.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { posix } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { createTunnel, type TunnelTokens } from "../helpers/mcp-client.ts";
import { startGateway, stopAll } from "../helpers/processes.ts";
import { tokenHeaderCases } from "../helpers/token-header-cases.ts";

interface Received {
  url: string;
  /** The path as this server routes it: decoded, then normalised. */
  route: string;
  headers: IncomingHttpHeaders;
}

const ADMIN_SECRET = "admin area: not for agents";
let edge: RunningEdge;
let tunnel: TunnelTokens;
let upstream: Server;
let upstreamUrl: string;
const received: Received[] = [];

/** Routes on the decoded, normalised path, as frameworks that decode `%2F` do. */
function route(rawUrl: string): string {
  const pathname = rawUrl.split("?")[0] as string;
  return posix.normalize(decodeURIComponent(pathname));
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const url = req.url ?? "/";
    const path = route(url);
    received.push({ url, route: path, headers: req.headers });
    req.resume();
    if (path === "/mcp/admin") return res.end(ADMIN_SECRET);
    if (path === "/mcp/files/cookie") {
      res.setHeader("set-cookie", ["session=from-upstream; Path=/", "tracker=1; Path=/t/other"]);
      return res.end("cookie set");
    }
    if (path.startsWith("/mcp/files/")) return res.end(`file ${path}`);
    res.setHeader("content-type", "application/json");
    res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  edge = await startEdge();
  tunnel = await createTunnel(edge, "corp");
  await startGateway({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [`rec=${upstreamUrl}/mcp`],
    args: ["--allow-path", "rec:/files/*"],
  });
});

beforeEach(() => {
  received.length = 0;
});

afterAll(async () => {
  await stopAll();
  await edge?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
});

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with its path sent byte for byte (fetch would resolve `%2e%2e` before sending). */
function raw(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const { hostname, port } = new URL(base);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request({ hostname, port, path, method: init.method ?? "GET", headers: init.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const agent = () => ({ authorization: `Bearer ${tunnel.agentToken}` });

test("every combination of X-Tether-Token and Authorization: what the upstream receives", async () => {
  for (const { name, headers, accepted, upstreamAuthorization } of tokenHeaderCases("corp", tunnel.agentToken)) {
    received.length = 0;
    const res = await raw(edge.url, "/t/corp/rec/mcp", {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status, name).toBe(accepted ? 200 : 401);
    expect(received.length, name).toBe(accepted ? 1 : 0);
    const seen = received[0];
    if (!seen) continue;
    expect(seen.headers.authorization, name).toBe(upstreamAuthorization);
    expect(seen.headers["x-tether-token"], name).toBeUndefined();
    expect(JSON.stringify(seen.headers), name).not.toMatch(/tth\./);
  }
});

test("smuggled paths never reach an upstream that decodes %2F; allowed ones do, as sent", async () => {
  // The upstream is the kind the check protects: asked directly, it serves the admin area.
  const direct = await raw(upstreamUrl, "/mcp/files/..%2fadmin");
  expect(direct.body).toBe(ADMIN_SECRET);
  received.length = 0;

  const attempts = [
    "/files/..%2fadmin",
    "/files/..%2Fadmin",
    "/files/..%5cadmin",
    "/files/..%5Cadmin",
    "/files/%2e%2e%2fadmin",
    "/files/%2e%2e/admin",
    "/files/%252e%252e%252fadmin",
    "/files/..%252fadmin",
    "/files//..//admin",
    "/files/..;/admin",
  ];
  for (const path of attempts) {
    const res = await raw(edge.url, `/t/corp/rec/mcp${path}`, { headers: agent() });
    expect([res.status, res.body], path).not.toContain(ADMIN_SECRET);
    expect(res.status, path).toBe(404);
  }
  expect(received).toEqual([]);

  const allowed = await raw(edge.url, "/t/corp/rec/mcp/files/a%20b.txt?x=1", { headers: agent() });
  expect([allowed.status, allowed.body]).toEqual([200, "file /mcp/files/a b.txt"]);
  expect(received.map((r) => r.url)).toEqual(["/mcp/files/a%20b.txt?x=1"]);
});

test("the upstream's Set-Cookie reaches no agent", async () => {
  const res = await raw(edge.url, "/t/corp/rec/mcp/files/cookie", {
    headers: { ...agent(), cookie: "CF_Authorization=edge-login" },
  });
  expect([res.status, res.body]).toEqual([200, "cookie set"]);
  expect(res.headers["set-cookie"]).toBeUndefined();
  expect(received[0]?.headers.cookie).toBeUndefined();
});

test("percent-encoded tunnel and server names reach the right upstream path", async () => {
  const res = await raw(edge.url, "/t/%63orp/%72%65%63/mcp/files/a?q=1", { headers: agent() });
  expect([res.status, res.body]).toEqual([200, "file /mcp/files/a"]);
  expect(received.map((r) => r.url)).toEqual(["/mcp/files/a?q=1"]);
});

/**
 * CORS on the agent endpoint, for MCP clients that run in a browser page: preflights answered at
 * the edge for the tunnel's allowed origins (403 for others), and every answer, relayed or refused,
 * readable by an allowed page.
 */
import { describe, expect, test } from "vitest";
import {
  admin,
  agentFetch,
  createTunnel,
  edgeFetch,
  initializeBody,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  SSE_HEADERS,
  warmUpEdge,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const APP = "https://app.example";

function preflight(tunnel: string, origin: string, path = ""): Promise<Response> {
  return edgeFetch(`/t/${tunnel}/echo/mcp${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, mcp-session-id, mcp-protocol-version",
    },
  });
}

const listed = (value: string | null) => (value ?? "").split(",").map((item) => item.trim().toLowerCase());

describe("CORS on the agent endpoint", () => {
  test("a preflight from an allowed origin gets what MCP needs, without a token and without the gateway", async () => {
    const tunnel = await createTunnel({ allowedOrigins: [APP] });
    const gateway = await SimGateway.connect(tunnel);
    for (const path of ["", "/.well-known/oauth-protected-resource"]) {
      const res = await preflight(tunnel.name, APP, path);
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(listed(res.headers.get("access-control-allow-methods"))).toEqual(
        expect.arrayContaining(["get", "post", "delete"]),
      );
      expect(listed(res.headers.get("access-control-allow-headers"))).toEqual(
        expect.arrayContaining([
          "authorization",
          "x-tether-token",
          "content-type",
          "accept",
          "mcp-session-id",
          "mcp-protocol-version",
          "last-event-id",
        ]),
      );
      expect(listed(res.headers.get("access-control-expose-headers"))).toContain("mcp-session-id");
      expect(listed(res.headers.get("vary"))).toContain("origin");
    }
    // The edge's own origin passes too.
    expect((await preflight(tunnel.name, "http://edge.test")).status).toBe(204);
    // The gateway saw none of it: the next call is the first Open it gets.
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 5) });
    const { open, stream } = await gateway.nextRequest();
    expect(open.method).toBe("POST");
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    await (await call).arrayBuffer();
    gateway.close();
  });

  test("a preflight from any other origin, or for a tunnel that does not exist, is 403 without CORS headers", async () => {
    const tunnel = await createTunnel({ allowedOrigins: [APP] });
    for (const [name, origin] of [
      [tunnel.name, "https://evil.example"],
      [tunnel.name, "null"],
      [tunnel.name, "https://app.example:8443"],
      ["no-such-tunnel", APP],
      ["Not_Valid", APP],
    ]) {
      const res = await preflight(name as string, origin as string);
      expect(res.status, `${name} ${origin}`).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(await res.json()).toMatchObject({ error: { data: { code: "forbidden_origin" } } });
    }
  });

  test("allowing an origin later takes effect at once", async () => {
    const tunnel = await createTunnel();
    expect((await preflight(tunnel.name, APP)).status).toBe(403);
    await admin("PATCH", `/admin/tunnels/${tunnel.name}`, { allowedOrigins: [APP] });
    expect((await preflight(tunnel.name, APP)).status).toBe(204);
  });

  test("relayed answers name an allowed origin (replacing the upstream's own CORS headers) and expose the session id", async () => {
    const tunnel = await createTunnel({ allowedOrigins: [APP] });
    const gateway = await SimGateway.connect(tunnel);
    const init = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, origin: APP },
      body: initializeBody(),
    });
    const first = await gateway.nextRequest();
    gateway.respond(
      first.stream,
      200,
      [...JSON_HEADERS, ["mcp-session-id", "s-1"], ["access-control-allow-origin", "*"]],
      '{"jsonrpc":"2.0","id":1,"result":{}}',
    );
    const res = await init;
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(listed(res.headers.get("access-control-expose-headers"))).toContain("mcp-session-id");
    expect(res.headers.get("mcp-session-id")).toBe("s-1");
    expect(await res.json()).toMatchObject({ id: 1, result: {} });

    // An event stream keeps streaming with the headers set.
    const get = agentFetch(tunnel, "echo", {
      method: "GET",
      headers: { accept: "text/event-stream", origin: APP, "mcp-session-id": "s-1" },
    });
    const { stream, response, reader } = await gateway.streaming(get, SSE_HEADERS, "data: one\n\n");
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    gateway.end(stream);
    expect(await reader.rest()).toBe("data: one\n\n");
    gateway.close();
  });

  test("without an Origin header nothing about CORS is added, and the upstream's headers pass", async () => {
    const tunnel = await createTunnel({ allowedOrigins: [APP] });
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const { stream } = await gateway.nextRequest();
    gateway.respond(stream, 200, [...JSON_HEADERS, ["access-control-allow-origin", "*"]], "{}");
    const res = await call;
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toBeNull();
    await res.arrayBuffer();
    gateway.close();
  });

  test("refusals stay readable by an allowed page: 401 at the edge, 503 from the relay", async () => {
    const tunnel = await createTunnel({ allowedOrigins: [APP] });
    const noToken = await edgeFetch(`/t/${tunnel.name}/echo/mcp`, {
      method: "POST",
      headers: { ...POST_JSON, origin: APP },
      body: jsonRpc("ping"),
    });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get("access-control-allow-origin")).toBe(APP);
    expect(listed(noToken.headers.get("access-control-expose-headers"))).toContain("www-authenticate");
    const noGateway = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, origin: APP },
      body: jsonRpc("ping"),
    });
    expect(noGateway.status).toBe(503);
    expect(noGateway.headers.get("access-control-allow-origin")).toBe(APP);
    // A refused origin learns nothing it could read.
    const evil = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, origin: "https://evil.example" },
      body: jsonRpc("ping"),
    });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("an OPTIONS request that is not a preflight is relayed like any other (it needs the token)", async () => {
    const tunnel = await createTunnel({ allowedOrigins: [APP] });
    const res = await edgeFetch(`/t/${tunnel.name}/echo/mcp`, { method: "OPTIONS", headers: { origin: APP } });
    expect(res.status).toBe(401);
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "OPTIONS" });
    const { open, stream } = await gateway.nextRequest();
    expect(open.method).toBe("OPTIONS");
    gateway.respond(stream, 204, [["allow", "GET, POST, DELETE"]], "");
    expect((await call).status).toBe(204);
    gateway.close();
  });
});

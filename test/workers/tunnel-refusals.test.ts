import { describe, expect, test } from "vitest";
import {
  agentFetch,
  createTunnel,
  edgeFetch,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  traces,
  warmUpEdge,
} from "./tunnel-fixtures.ts";
import { SimGateway, text } from "./tunnel-sim-gateway.ts";

warmUpEdge();

describe("agent requests refused before relaying", () => {
  test("no gateway connected: 503 at once, JSON-RPC error with the request id, Retry-After", async () => {
    const tunnel = await createTunnel();
    const res = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("ping", {}, "r-1"),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({
      jsonrpc: "2.0",
      id: "r-1",
      error: {
        code: -32010,
        message: "no gateway is connected to this tunnel; retry shortly",
        data: { code: "no_gateway" },
      },
    });
    expect((await traces(tunnel.name))[0]).toMatchObject({ status: 503, rpcMethod: "ping" });
  });

  test("an unknown server is 404; so is an extra path the gateway did not allow", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, {
      servers: [{ name: "echo", kind: "http", allowPaths: ["/.well-known/oauth-protected-resource", "/files/*"] }],
    });
    const unknown = await agentFetch(tunnel, "other", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/no MCP server "other"/);
    const invalid = await agentFetch(tunnel, "Not_Valid", { method: "POST", headers: POST_JSON, body: "{}" });
    expect(invalid.status).toBe(404);
    for (const path of ["/admin", "/", "/.well-known/oauth-protected-resource/x", "/files"]) {
      const res = await agentFetch(tunnel, "echo", { method: "GET", path });
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    for (const path of ["/.well-known/oauth-protected-resource", "/files/a/b"]) {
      const call = agentFetch(tunnel, "echo", { method: "GET", path });
      const { open, stream } = await gateway.nextRequest();
      expect(open.path).toBe(path);
      gateway.respond(stream, 200, JSON_HEADERS, "{}");
      expect((await call).status).toBe(200);
      await (await call).arrayBuffer();
    }
    gateway.close();
  });

  test("missing, malformed, wrong-kind or forged agent tokens get 401 with a JSON-RPC body", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    for (const authorization of [
      undefined,
      "Bearer nope",
      `Bearer ${tunnel.gatewayToken}`,
      `Bearer tth.ag.${tunnel.name}.${"A".repeat(32)}`,
    ]) {
      const headers = new Headers(POST_JSON);
      if (authorization) headers.set("authorization", authorization);
      const res = await edgeFetch(`/t/${tunnel.name}/echo/mcp`, { method: "POST", headers, body: jsonRpc("ping") });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32001 } });
    }
    gateway.close();
  });

  test("an agent token of tunnel A on tunnel B gets the same 404 as a tunnel that does not exist", async () => {
    const a = await createTunnel();
    const b = await createTunnel();
    const gateway = await SimGateway.connect(b);
    const onB = await agentFetch(b, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("ping"),
      token: a.agentToken,
    });
    const onNothing = await edgeFetch("/t/no-such-tunnel/echo/mcp", {
      method: "POST",
      headers: { ...POST_JSON, authorization: `Bearer ${a.agentToken}` },
      body: jsonRpc("ping"),
    });
    expect(onB.status).toBe(404);
    expect(onNothing.status).toBe(404);
    expect(await onB.text()).toBe(await onNothing.text());
    gateway.close();
  });

  test("a bad Origin is 403; the edge's own and allowed origins pass", async () => {
    const tunnel = await createTunnel({ allowedOrigins: ["https://inspector.example"] });
    const gateway = await SimGateway.connect(tunnel);
    for (const origin of ["https://evil.example", "null", "http://edge.test:8080"]) {
      const res = await agentFetch(tunnel, "echo", {
        method: "POST",
        headers: { ...POST_JSON, origin },
        body: jsonRpc("ping", {}, 3),
      });
      expect(res.status, origin).toBe(403);
      expect(await res.json()).toMatchObject({ id: 3, error: { data: { code: "forbidden_origin" } } });
    }
    for (const origin of ["http://edge.test", "https://inspector.example"]) {
      const call = agentFetch(tunnel, "echo", {
        method: "POST",
        headers: { ...POST_JSON, origin },
        body: jsonRpc("ping"),
      });
      const { stream } = await gateway.nextRequest();
      gateway.respond(stream, 200, JSON_HEADERS, "{}");
      expect((await call).status, origin).toBe(200);
      await (await call).arrayBuffer();
    }
    gateway.close();
  });

  test("a body over 4 MiB is 413, declared or not, and nothing reaches the gateway", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const tooBig = new Uint8Array(4 * 1024 * 1024 + 1);
    const declared = await agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: tooBig });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({
      error: { message: "request body is larger than the limit of 4 MiB", data: { code: "payload_too_large" } },
    });
    const streamed = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1024 * 1024));
          controller.close();
        },
      }),
    });
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({
      error: { message: "request body is larger than the limit of 4 MiB" },
    });
    // The next call is the first the gateway sees.
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 9) });
    const { open, stream, body } = await gateway.nextRequest();
    expect(open.method).toBe("POST");
    expect(text(body)).toContain('"id":9');
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    await (await call).arrayBuffer();
    gateway.close();
  });
});

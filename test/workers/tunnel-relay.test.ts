import { describe, expect, test } from "vitest";
import { INITIAL_STREAM_WINDOW } from "../../src/protocol/version.ts";
import {
  admin,
  agentFetch,
  BodyReader,
  createTunnel,
  edgeFetch,
  jsonRpc,
  POST_JSON,
  SimGateway,
  text,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";

warmUpEdge();

const JSON_HEADERS: Array<[string, string]> = [["content-type", "application/json"]];
const SSE_HEADERS: Array<[string, string]> = [["content-type", "text/event-stream"]];

async function traces(tunnel: string): Promise<Array<Record<string, unknown>>> {
  const detail = (await (await admin("GET", `/admin/tunnels/${tunnel}`)).json()) as {
    traces: Array<Record<string, unknown>>;
  };
  return detail.traces;
}

describe("agent endpoint relay", () => {
  test("a JSON call is relayed with its method, headers and body, and answered as the gateway says", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const body = jsonRpc("tools/call", { name: "echo", arguments: { message: "hi" } }, 5);
    const call = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, "mcp-protocol-version": "2025-06-18", "x-custom": "yes", "cf-connecting-ip": "1.2.3.4" },
      body,
    });
    const request = await gateway.nextRequest();
    expect(request.open).toMatchObject({ server: "echo", method: "POST", path: "", query: "", hasBody: true });
    const headers = new Map(request.open.headers);
    expect(headers.get("content-type")).toBe("application/json");
    expect(headers.get("mcp-protocol-version")).toBe("2025-06-18");
    expect(headers.get("x-custom")).toBe("yes");
    // The edge's own token and Cloudflare's headers never reach the upstream.
    expect(headers.has("authorization")).toBe(false);
    expect(headers.has("cf-connecting-ip")).toBe(false);
    expect(headers.has("host")).toBe(false);
    expect(text(request.body)).toBe(body);

    const answer = '{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"hi"}]}}';
    gateway.respond(request.stream, 200, [...JSON_HEADERS, ["x-upstream", "1"], ["connection", "close"]], answer);
    const res = await call;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-upstream")).toBe("1");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe(answer);

    const [trace] = await traces(tunnel.name);
    expect(trace).toMatchObject({
      server: "echo",
      httpMethod: "POST",
      rpcMethod: "tools/call",
      tool: "echo",
      status: 200,
      bytesIn: body.length,
      bytesOut: answer.length,
      error: null,
      tokenId: tunnel.tokens[1]?.id,
    });
    gateway.close();
  });

  test("with X-Tether-Token, Authorization belongs to the upstream and passes through", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, "x-tether-token": tunnel.agentToken, authorization: "Bearer upstream-secret" },
      body: jsonRpc("ping"),
    });
    const { open, stream } = await gateway.nextRequest();
    const headers = new Map(open.headers);
    expect(headers.get("authorization")).toBe("Bearer upstream-secret");
    expect(headers.has("x-tether-token")).toBe(false);
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    expect(await (await call).text()).toBe("{}");
    gateway.close();
  });

  test("an SSE response streams event by event, before the gateway has finished", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("tools/call") });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, SSE_HEADERS);
    gateway.data(stream, 'event: message\ndata: {"progress":1}\n\n');
    const res = await call;
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = new BodyReader(res);
    // The first event arrives while the gateway still holds the stream open.
    await reader.until('{"progress":1}');
    gateway.data(stream, 'event: message\ndata: {"progress":2}\n\n');
    await reader.until('{"progress":2}');
    gateway.data(stream, 'event: message\ndata: {"result":true}\n\n');
    gateway.end(stream);
    expect(await reader.rest()).toBe(
      'event: message\ndata: {"progress":1}\n\nevent: message\ndata: {"progress":2}\n\nevent: message\ndata: {"result":true}\n\n',
    );
    gateway.close();
  });

  test("a GET stream and a query string are relayed", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "GET", headers: { accept: "text/event-stream" }, path: "?a=1" });
    const { open, stream } = await gateway.nextRequest();
    expect(open).toMatchObject({ method: "GET", path: "", query: "?a=1", hasBody: false });
    gateway.respond(stream, 405, [], "");
    const res = await call;
    expect(res.status).toBe(405);
    await res.arrayBuffer();
    gateway.close();
  });

  test("a response larger than the credit window only flows as the agent reads it", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("resources/read") });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, [["content-type", "application/octet-stream"]]);
    const res = await call;

    const size = 8 * INITIAL_STREAM_WINDOW;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7) % 251;
    let sent = false;
    const sending = gateway
      .sendBody(
        stream,
        new ReadableStream({
          start(controller) {
            for (let offset = 0; offset < size; offset += 100_000)
              controller.enqueue(payload.slice(offset, offset + 100_000));
            controller.close();
          },
        }),
      )
      .then((n) => {
        sent = true;
        return n;
      });
    // With the agent not reading, the gateway runs out of credit and must wait.
    const window = gateway.credits.get(stream);
    await within(
      (async () => {
        while ((window?.available ?? 0) > 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      "the gateway's window to run out",
    );
    expect(sent).toBe(false);
    const grantedBeforeReading = gateway.granted.get(stream) ?? 0;
    // Only what the pipes between relay and agent read ahead was credited, far from the whole body.
    expect(grantedBeforeReading).toBeLessThanOrEqual(2 * INITIAL_STREAM_WINDOW);

    const received = new Uint8Array(await within(res.arrayBuffer(), "the whole body"));
    expect(received.byteLength).toBe(size);
    expect(received.every((byte, i) => byte === payload[i])).toBe(true);
    expect(await within(sending, "the gateway to finish sending")).toBe(size);
    gateway.end(stream);
    expect(gateway.granted.get(stream)).toBeGreaterThanOrEqual(size - INITIAL_STREAM_WINDOW);
    gateway.close();
  });

  test("a request body larger than the window is sent within the gateway's credit", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const big = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { blob: "x".repeat(1_000_000) },
    });
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: big });
    const { stream, body } = await gateway.nextRequest();
    expect(text(body)).toBe(big);
    gateway.respond(stream, 202, [], "");
    expect((await call).status).toBe(202);
    gateway.close();
  });

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
    expect(await declared.json()).toMatchObject({ error: { data: { code: "payload_too_large" } } });
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
    await streamed.arrayBuffer();
    // The next call is the first the gateway sees.
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 9) });
    const { open, stream, body } = await gateway.nextRequest();
    expect(open.method).toBe("POST");
    expect(text(body)).toContain('"id":9');
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    await (await call).arrayBuffer();
    gateway.close();
  });

  test("Reset upstream_unavailable before Head is a 502 JSON-RPC error naming the server", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 11) });
    const { stream } = await gateway.nextRequest();
    gateway.reset(stream, "upstream_unavailable", "connect ECONNREFUSED 10.0.0.5:8080");
    const res = await call;
    expect(res.status).toBe(502);
    const body = (await res.json()) as { id: number; error: { message: string; data: { code: string } } };
    expect(body.id).toBe(11);
    expect(body.error.data.code).toBe("upstream_unavailable");
    expect(body.error.message).toContain('"echo"');
    expect(body.error.message).toContain("ECONNREFUSED");
    expect((await traces(tunnel.name))[0]).toMatchObject({
      status: 502,
      error: expect.stringContaining("ECONNREFUSED"),
    });
    gateway.close();
  });

  test("the gateway closing mid-call fails every pending call: 502 before Head, a broken stream after", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const before = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 1) });
    const during = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 2) });
    const first = await gateway.nextRequest();
    const second = await gateway.nextRequest();
    const streaming = JSON.parse(text(first.body)).id === 2 ? first : second;
    gateway.head(streaming.stream, 200, SSE_HEADERS);
    gateway.data(streaming.stream, "data: partial\n\n");
    const res = await during;
    const reader = new BodyReader(res);
    await reader.until("partial");
    gateway.close(1001, "going away");

    const failed = await within(before, "the call without Head");
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ id: 1, error: { data: { code: "gateway_lost" } } });
    await expect(reader.rest()).rejects.toThrow();
    const recent = await traces(tunnel.name);
    expect(recent.filter((t) => typeof t.error === "string" && /gateway disconnected/.test(t.error))).toHaveLength(2);
  });

  test("an agent that goes away mid-stream makes the edge Reset the stream with cancelled", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "GET", headers: { accept: "text/event-stream" } });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, SSE_HEADERS);
    gateway.data(stream, "data: one\n\n");
    const reader = new BodyReader(await call);
    await reader.until("one");
    await reader.cancel();
    // The relay learns of it when it next writes to the agent.
    gateway.data(stream, "data: two\n\n");
    expect(await gateway.resetOf(stream)).toEqual({ code: "cancelled", message: "the agent went away" });
    // Late frames for the cancelled stream are ignored; the connection keeps serving.
    gateway.data(stream, "data: late\n\n");
    const next = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const request = await gateway.nextRequest();
    expect(request.stream).toBeGreaterThan(stream);
    gateway.respond(request.stream, 200, JSON_HEADERS, "{}");
    expect(await (await next).text()).toBe("{}");
    expect(gateway.isClosed).toBe(false);
    gateway.close();
  });

  test("an agent gone from an idle SSE stream is noticed by the next keep-alive", async () => {
    const tunnel = await createTunnel({ sseKeepAliveMs: 20 });
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "GET", headers: { accept: "text/event-stream" } });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, SSE_HEADERS);
    gateway.data(stream, "data: one\n\n");
    const reader = new BodyReader(await call);
    await reader.until("one");
    await reader.cancel();
    // No more data from the gateway: the keep-alive write finds the agent gone.
    expect(await gateway.resetOf(stream)).toEqual({ code: "cancelled", message: "the agent went away" });
    const [trace] = await traces(tunnel.name);
    expect(trace).toMatchObject({ httpMethod: "GET", status: 200, error: "the agent disconnected" });
    gateway.close();
  });

  test("a JSON-RPC error in a relayed JSON answer is recorded in the trace", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("tools/call", { name: "explode" }),
    });
    const { stream } = await gateway.nextRequest();
    gateway.respond(
      stream,
      200,
      JSON_HEADERS,
      '{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"no such tool"}}',
    );
    await (await call).arrayBuffer();
    const detail = (await (await admin("GET", `/admin/tunnels/${tunnel.name}`)).json()) as {
      errors: Array<Record<string, unknown>>;
    };
    expect(detail.errors[0]).toMatchObject({
      tool: "explode",
      status: 200,
      error: "JSON-RPC error -32602: no such tool",
    });
    gateway.close();
  });

  test("concurrent calls over one connection each get their own answer", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const calls = Array.from({ length: 8 }, (_, i) =>
      agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, i) }),
    );
    const requests = await Promise.all(calls.map(() => gateway.nextRequest()));
    // Answer in reverse order.
    for (const request of requests.reverse()) {
      const id = JSON.parse(text(request.body)).id;
      gateway.respond(request.stream, 200, JSON_HEADERS, JSON.stringify({ jsonrpc: "2.0", id, result: { id } }));
    }
    const answers = await Promise.all(calls.map(async (call) => (await call).json()));
    expect(answers.map((answer) => (answer as { result: { id: number } }).result.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    gateway.close();
  });
});

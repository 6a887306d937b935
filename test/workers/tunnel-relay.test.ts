import { describe, expect, test } from "vitest";
import { INITIAL_STREAM_WINDOW } from "../../src/protocol/version.ts";
import {
  agentFetch,
  createTunnel,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  SSE_HEADERS,
  traces,
  tunnelDetail,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway, text } from "./tunnel-sim-gateway.ts";

warmUpEdge();

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
    // The first event arrives while the gateway still holds the stream open.
    const first = 'event: message\ndata: {"progress":1}\n\n';
    const { stream, response, reader } = await gateway.streaming(call, SSE_HEADERS, first);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
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
    const detail = await tunnelDetail<{
      errors: Array<Record<string, unknown>>;
    }>(tunnel.name);
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

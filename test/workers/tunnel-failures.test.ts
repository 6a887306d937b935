import { describe, expect, test } from "vitest";
import {
  agentFetch,
  createTunnel,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  SSE_GET,
  SSE_HEADERS,
  traces,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { BodyReader, SimGateway, text } from "./tunnel-sim-gateway.ts";

warmUpEdge();

/** The events (and comments) of an SSE body, split at blank lines. */
function sseEvents(body: string): string[] {
  return body.split(/\r?\n\r?\n/).filter(Boolean);
}

describe("failures during a relayed call", () => {
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

  test("the gateway closing mid-call fails every pending call: 502 before Head, a JSON-RPC error event after", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const before = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 1) });
    const during = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("tools/call", {}, 2),
    });
    const first = await gateway.nextRequest();
    const second = await gateway.nextRequest();
    const streaming = JSON.parse(text(first.body)).id === 2 ? first : second;
    gateway.head(streaming.stream, 200, SSE_HEADERS);
    gateway.data(streaming.stream, "event: message\ndata: partial\n\n");
    const reader = new BodyReader(await during);
    await reader.until("partial");
    gateway.close(1001, "going away");

    const failed = await within(before, "the call without Head");
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({
      id: 1,
      error: { message: 'the call to MCP server "echo" failed: the gateway disconnected (1001 going away)' },
    });
    // The stream that had started ends normally, its last event answering request 2.
    const events = sseEvents(await reader.rest());
    expect(events[0]).toBe("event: message\ndata: partial");
    expect(events).toHaveLength(2);
    expect(events[1]?.startsWith("event: message\ndata: ")).toBe(true);
    expect(JSON.parse(events[1]?.split("data: ")[1] ?? "")).toEqual({
      jsonrpc: "2.0",
      id: 2,
      error: {
        code: -32012,
        message: 'the call to MCP server "echo" failed: the gateway disconnected (1001 going away)',
        data: { code: "gateway_lost" },
      },
    });
    const recent = await traces(tunnel.name);
    expect(recent.filter((t) => typeof t.error === "string" && /gateway disconnected/.test(t.error))).toHaveLength(2);
  });

  test("a Reset after Head ends an SSE response with the reset as a JSON-RPC error", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("tools/call", {}, "c-7"),
    });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, SSE_HEADERS);
    gateway.data(stream, 'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\r\n\r\n');
    gateway.reset(stream, "upstream_unavailable", "the MCP server's process exited");
    const events = sseEvents(await new BodyReader(await call).rest());
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]?.split("data: ")[1] ?? "")).toMatchObject({
      id: "c-7",
      error: {
        code: -32011,
        message: expect.stringContaining("process exited"),
        data: { code: "upstream_unavailable" },
      },
    });
    gateway.close();
  });

  test.each([
    ["a stream paused inside an event", "POST", SSE_HEADERS, "event: message\ndata: {half"],
    ["a GET stream (no request to answer)", "GET", SSE_HEADERS, "data: one\n\n"],
    ["a JSON response", "POST", JSON_HEADERS, '{"jsonrpc":"2.0",'],
  ] as const)(
    "the gateway lost during %s: the response breaks off, nothing is added to it",
    async (_what, method, headers, sent) => {
      const tunnel = await createTunnel();
      const gateway = await SimGateway.connect(tunnel);
      const init = method === "GET" ? SSE_GET : { method, headers: POST_JSON, body: jsonRpc("tools/call", {}, 3) };
      const call = agentFetch(tunnel, "echo", init);
      const { reader } = await gateway.streaming(call, [...headers], sent);
      gateway.close(1001, "going away");
      await expect(reader.rest()).rejects.toThrow();
      expect(reader.received).toBe(sent);
    },
  );

  test("a response the gateway finished (END) is delivered whole even if the gateway leaves right after", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const { stream } = await gateway.nextRequest();
    const body = "x".repeat(200_000);
    gateway.head(stream, 200, [["content-type", "text/plain"]]);
    for (let offset = 0; offset < body.length; offset += 50_000)
      gateway.data(stream, body.slice(offset, offset + 50_000));
    gateway.end(stream);
    gateway.close(1001, "restarting");
    await within(gateway.closed, "gateway close");
    expect(await within((await call).text(), "the whole body")).toBe(body);
  });

  test("an agent that goes away mid-stream makes the edge Reset the stream with cancelled", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", SSE_GET);
    const { stream, reader } = await gateway.streaming(call, SSE_HEADERS, "data: one\n\n");
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
    const call = agentFetch(tunnel, "echo", SSE_GET);
    const { stream, reader } = await gateway.streaming(call, SSE_HEADERS, "data: one\n\n");
    await reader.cancel();
    // No more data from the gateway: the keep-alive write finds the agent gone.
    expect(await gateway.resetOf(stream)).toEqual({ code: "cancelled", message: "the agent went away" });
    const [trace] = await traces(tunnel.name);
    expect(trace).toMatchObject({ httpMethod: "GET", status: 200, error: "the agent disconnected" });
    gateway.close();
  });
});

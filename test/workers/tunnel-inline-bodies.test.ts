import { describe, expect, test } from "vitest";
import { encodeJsonBodyFrame, FrameType } from "../../src/protocol/frames.ts";
import { Feature, INITIAL_STREAM_WINDOW, MAX_INLINE_BODY } from "../../src/protocol/version.ts";
import {
  agentFetch,
  createTunnel,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  traces,
  tunnelDetail,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway, text } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const INLINE = { features: [Feature.inlineBodies] };

describe("inline bodies (OpenBody, HeadBody)", () => {
  test("a gateway that announced them gets a small request as one OpenBody, and may answer with one HeadBody", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, INLINE);
    const body = jsonRpc("tools/call", { name: "echo", arguments: { message: "hi" } }, 3);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body });
    const request = await gateway.nextRequest();
    expect(request.inline).toBe(true);
    expect(request.open).toMatchObject({ server: "echo", method: "POST", hasBody: true });
    expect(text(request.body)).toBe(body);

    const answer = '{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"hi"}]}}';
    gateway.headBody(
      request.stream,
      200,
      [...JSON_HEADERS, ["x-upstream", "1"], ["connection", "close"], ["content-length", "999"]],
      answer,
    );
    const res = await call;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-upstream")).toBe("1");
    expect(res.headers.has("connection")).toBe(false);
    expect(res.headers.get("content-length")).not.toBe("999");
    expect(await res.text()).toBe(answer);
    // Nothing else crossed for that stream: no DATA, END or Credit either way.
    expect(gateway.queued(request.stream)).toEqual([]);
    expect(gateway.granted.get(request.stream)).toBeUndefined();
    const [trace] = await traces(tunnel.name);
    expect(trace).toMatchObject({ status: 200, bytesIn: body.length, bytesOut: answer.length, error: null });
    gateway.close();
  });

  test("a request body larger than one inline frame still streams as Open, DATA…, END within credit", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, INLINE);
    const big = jsonRpc("tools/call", { blob: "x".repeat(3 * MAX_INLINE_BODY) });
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: big });
    const request = await gateway.nextRequest();
    expect(request.inline).toBe(false);
    expect(text(request.body)).toBe(big);
    gateway.headBody(request.stream, 202, [], "");
    expect((await call).status).toBe(202);
    gateway.close();
  });

  test("a gateway that did not announce them gets Open, DATA, END, as older gateways expect", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const request = await gateway.nextRequest();
    expect(request.inline).toBe(false);
    gateway.respond(request.stream, 200, JSON_HEADERS, "{}");
    expect(await (await call).text()).toBe("{}");
    gateway.close();
  });

  test("a JSON-RPC error in a HeadBody is recorded in the trace; a 204 HeadBody answers without a body", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, INLINE);
    const failing = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("tools/call", { name: "explode" }),
    });
    const first = await gateway.nextRequest();
    gateway.headBody(
      first.stream,
      200,
      JSON_HEADERS,
      '{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"no"}}',
    );
    await (await failing).arrayBuffer();
    const ended = agentFetch(tunnel, "echo", { method: "DELETE" });
    const second = await gateway.nextRequest();
    gateway.headBody(second.stream, 204, [], "");
    const res = await ended;
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    const detail = await tunnelDetail<{
      errors: Array<Record<string, unknown>>;
    }>(tunnel.name);
    expect(detail.errors[0]).toMatchObject({ tool: "explode", error: "JSON-RPC error -32602: no" });
    gateway.close();
  });

  test("a HeadBody while the request body is still on its way ends the stream with Reset 'response ended first'", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, INLINE);
    // A gateway whose upstream takes nothing: the edge sends one window and waits for credit.
    gateway.creditRequestBodies = false;
    const big = jsonRpc("tools/call", { blob: "x".repeat(2 * INITIAL_STREAM_WINDOW) });
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: big });
    const open = await gateway.take((f) => f.type === FrameType.Open, "Open");
    gateway.headBody(open.stream, 413, JSON_HEADERS, '{"error":"too large"}');
    const res = await call;
    expect(res.status).toBe(413);
    expect(await res.text()).toBe('{"error":"too large"}');
    expect(await gateway.resetOf(open.stream)).toEqual({ code: "cancelled", message: "response ended first" });
    gateway.close();
  });

  test.each([
    ["a body on a 204", 204, new Uint8Array(3), /a 204 with a body/],
    ["a body beyond the window", 200, new Uint8Array(INITIAL_STREAM_WINDOW + 1), /beyond the window/],
  ])("a HeadBody with %s is a protocol error: 4400, and the call fails", async (_what, status, body, reason) => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, INLINE);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 9) });
    const { stream } = await gateway.nextRequest();
    gateway.headBody(stream, status, [], body);
    const closed = await within(gateway.closed, "close");
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(reason);
    const res = await call;
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ id: 9, error: { data: { code: "gateway_lost" } } });
  });

  test.each([
    ["Head", false],
    ["HeadBody", true],
  ])(
    "a %s with a header the edge cannot relay is a protocol error (4400); the call fails, it never hangs",
    async (_what, inline) => {
      const tunnel = await createTunnel();
      const gateway = await SimGateway.connect(tunnel, INLINE);
      const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 4) });
      const { stream } = await gateway.nextRequest();
      const headers: Array<[string, string]> = [["bad header name", "x"]];
      if (inline) gateway.headBody(stream, 200, headers, "{}");
      else gateway.head(stream, 200, headers);
      const closed = await within(gateway.closed, "close");
      expect(closed.code).toBe(4400);
      expect(closed.reason).toMatch(/Head cannot be relayed/);
      const res = await within(call, "the agent's answer");
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ id: 4, error: { data: { code: "gateway_lost" } } });
    },
  );

  test("an OpenBody from a gateway, or a HeadBody whose JSON length is wrong, closes that socket with 4400", async () => {
    const tunnel = await createTunnel();
    const opener = await SimGateway.connect(tunnel, INLINE);
    opener.send(encodeJsonBodyFrame(FrameType.OpenBody, 1, { server: "echo" }, new Uint8Array(1)));
    expect(await within(opener.closed, "close")).toMatchObject({
      code: 4400,
      reason: "frame 0x16 is only sent by the edge",
    });

    const liar = await SimGateway.connect(tunnel, INLINE);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const { stream } = await liar.nextRequest();
    liar.send(new Uint8Array([FrameType.HeadBody, 0, 0, 0, stream, 0, 0, 0, 99, 0x7b]));
    expect(await within(liar.closed, "close")).toMatchObject({
      code: 4400,
      reason: "frame 0x17 has a bad JSON length",
    });
    expect((await call).status).toBe(502);
  });
});

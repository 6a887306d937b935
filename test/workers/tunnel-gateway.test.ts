import { describe, expect, test } from "vitest";
import { encodeFrame, encodeJsonFrame, FrameType } from "../../src/protocol/frames.ts";
import { Feature, PING, PONG, TUNNEL_PROTOCOL_VERSION } from "../../src/protocol/version.ts";
import {
  agentFetch,
  createTunnel,
  edgeFetch,
  jsonRpc,
  POST_JSON,
  tunnelDetail,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const HELLO = {
  protocol: TUNNEL_PROTOCOL_VERSION,
  gatewayId: "gw-raw",
  version: "1.0.0",
  servers: [{ name: "echo", kind: "http", allowPaths: [] }],
};

async function dialed(tunnel: Awaited<ReturnType<typeof createTunnel>>): Promise<SimGateway> {
  const gateway = await SimGateway.dial(tunnel.name, tunnel.gatewayToken);
  if (gateway instanceof Response) throw new Error(`refused: ${gateway.status}`);
  return gateway;
}

/** A call through the tunnel answered by `gateway`, proving it (still) serves. */
async function roundTrip(tunnel: Awaited<ReturnType<typeof createTunnel>>, gateway: SimGateway): Promise<void> {
  const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
  const { stream } = await gateway.nextRequest();
  gateway.respond(stream, 200, [["content-type", "application/json"]], '{"jsonrpc":"2.0","id":1,"result":{}}');
  const res = await call;
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
}

describe("gateway connections", () => {
  test("Hello is answered with Welcome naming the tunnel, the protocol, the ping interval and the edge's features", async () => {
    const tunnel = await createTunnel();
    const gateway = await dialed(tunnel);
    gateway.sendJson(FrameType.Hello, 0, HELLO);
    const welcome = await gateway.take((f) => f.type === FrameType.Welcome, "Welcome");
    expect(welcome.stream).toBe(0);
    expect(JSON.parse(new TextDecoder().decode(welcome.payload))).toEqual({
      protocol: TUNNEL_PROTOCOL_VERSION,
      tunnel: tunnel.name,
      pingIntervalMs: 20_000,
      features: [Feature.inlineBodies],
    });
    await roundTrip(tunnel, gateway);
    gateway.close();
  });

  test("ping is answered with pong", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const pong = new Promise<string>((resolve) =>
      gateway.ws.addEventListener("message", (event) => {
        if (typeof event.data === "string") resolve(event.data);
      }),
    );
    gateway.ws.send(PING);
    expect(await within(pong, "pong")).toBe(PONG);
    gateway.close();
  });

  test("missing, malformed or wrong-kind tokens get 401 with WWW-Authenticate", async () => {
    const tunnel = await createTunnel();
    for (const token of [null, "nope", `tth.gw.${tunnel.name}.short`, tunnel.agentToken]) {
      const res = (await SimGateway.dial(tunnel.name, token)) as Response;
      expect(res.status, String(token)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
    // A well-formed token with a secret the tunnel never issued.
    const forged = `tth.gw.${tunnel.name}.${"A".repeat(32)}`;
    expect(((await SimGateway.dial(tunnel.name, forged)) as Response).status).toBe(401);
  });

  test("a gateway token of tunnel A on tunnel B gets the same 404 as a tunnel that does not exist", async () => {
    const a = await createTunnel();
    const b = await createTunnel();
    const onB = (await SimGateway.dial(b.name, a.gatewayToken)) as Response;
    const onNothing = (await SimGateway.dial("no-such-tunnel", a.gatewayToken)) as Response;
    expect(onB.status).toBe(404);
    expect(onNothing.status).toBe(404);
    expect(await onB.text()).toBe(await onNothing.text());
  });

  test("a plain GET without upgrade is refused", async () => {
    const tunnel = await createTunnel();
    const res = await edgeFetch(`/t/${tunnel.name}/connect`, {
      headers: { authorization: `Bearer ${tunnel.gatewayToken}` },
    });
    expect(res.status).toBe(400);
  });

  test.each([
    ["a frame shorter than its header", () => new Uint8Array([1, 0]), /shorter than its header/],
    ["an unknown frame type", () => encodeFrame(0x7f as FrameType, 0), /unknown frame type 0x7f/],
    ["a first frame that is not Hello", () => encodeFrame(FrameType.End, 1), /first frame must be Hello/],
    ["a Hello with invalid JSON", () => encodeFrame(FrameType.Hello, 0, new Uint8Array([123])), /invalid JSON/],
    [
      "a Hello with a bad server name",
      () => encodeJsonFrame(FrameType.Hello, 0, { ...HELLO, servers: [{ name: "Bad Name", kind: "http" }] }),
      /invalid payload/,
    ],
    [
      "a Hello listing a server twice",
      () => encodeJsonFrame(FrameType.Hello, 0, { ...HELLO, servers: [HELLO.servers[0], HELLO.servers[0]] }),
      /twice/,
    ],
  ])("%s closes that socket with 4400 and a reason; another gateway keeps serving", async (_what, frame, reason) => {
    const tunnel = await createTunnel();
    const good = await SimGateway.connect(tunnel);
    const bad = await dialed(tunnel);
    bad.send(frame());
    const closed = await within(bad.closed, "close of the bad socket");
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(reason);
    await roundTrip(tunnel, good);
    good.close();
  });

  test.each([
    ["a second Hello", () => encodeJsonFrame(FrameType.Hello, 0, HELLO), /duplicate Hello/],
    ["an Open (edge-only)", () => encodeJsonFrame(FrameType.Open, 1, {}), /only sent by the edge/],
    ["a frame for a stream never opened", () => encodeFrame(FrameType.End, 99), /never opened/],
    ["a stream frame on stream 0", () => encodeFrame(FrameType.Data, 0), /needs a stream id/],
    ["a GoAway on a stream", () => encodeJsonFrame(FrameType.GoAway, 3, { reason: "x" }), /must use stream 0/],
    ["an unexpected text frame", () => "hello", /unexpected text frame/],
  ])("after Hello, %s closes that socket with 4400; another keeps serving", async (_what, frame, reason) => {
    const tunnel = await createTunnel();
    const good = await SimGateway.connect(tunnel, { gatewayId: "good" });
    const bad = await SimGateway.connect(tunnel, { gatewayId: "bad" });
    const message = frame();
    if (typeof message === "string") bad.ws.send(message);
    else bad.send(message);
    const closed = await within(bad.closed, "close of the bad socket");
    expect(closed).toMatchObject({ code: 4400 });
    expect(closed.reason).toMatch(reason);
    await roundTrip(tunnel, good);
    good.close();
  });

  test("a protocol version mismatch closes with 4426", async () => {
    const tunnel = await createTunnel();
    const gateway = await dialed(tunnel);
    gateway.sendJson(FrameType.Hello, 0, { ...HELLO, protocol: TUNNEL_PROTOCOL_VERSION + 1 });
    const closed = await within(gateway.closed, "close");
    expect(closed.code).toBe(4426);
    expect(closed.reason).toMatch(/not supported/);
  });

  test("a malformed Head fails the pending call of that socket with a JSON-RPC error", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 42) });
    const { stream } = await gateway.nextRequest();
    gateway.sendJson(FrameType.Head, stream, { status: "two hundred" });
    const res = await within(call, "agent response");
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: 42, error: { data: { code: "gateway_lost" } } });
    expect((await within(gateway.closed, "close")).code).toBe(4400);
  });

  test("DATA beyond the granted credit is a protocol error", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, [["content-type", "application/octet-stream"]]);
    // The agent reads nothing: beyond what the edge's pipes read ahead, no credit comes back, so
    // 1 MiB sent at once (4x the initial window) must overrun it.
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 16; i++) gateway.data(stream, chunk);
    const closed = await within(gateway.closed, "close");
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/beyond granted credit/);
    const res = await call;
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  test("GoAway stops new calls going to a draining gateway", async () => {
    const tunnel = await createTunnel();
    const draining = await SimGateway.connect(tunnel, { gatewayId: "draining" });
    draining.sendJson(FrameType.GoAway, 0, { reason: "shutting down" });
    const detail = () => tunnelDetail<{ gateways: Array<{ draining: string }> }>(tunnel.name);
    // The GoAway is processed before the admin call that follows it on the same object.
    await within(
      (async () => {
        while ((await detail()).gateways[0]?.draining !== "shutting down") await new Promise((r) => setTimeout(r, 10));
      })(),
      "draining state",
    );
    const refused = await agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    const fresh = await SimGateway.connect(tunnel, { gatewayId: "fresh" });
    await roundTrip(tunnel, fresh);
    draining.close();
    fresh.close();
  });
});

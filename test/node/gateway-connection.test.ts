import { afterEach, expect, test } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import { decodeJson, encodeFrame, FrameType } from "../../src/protocol/frames.ts";
import { GoAwaySchema } from "../../src/protocol/messages.ts";
import { startFakeEdge } from "../helpers/fake-edge.ts";
import {
  GATEWAY_TOKEN,
  type Harness,
  logged,
  ScriptedUpstream,
  startHarness,
  TUNNEL,
} from "../helpers/gateway-harness.ts";
import { until, within } from "../helpers/stdio-fixtures.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const okUpstream = (name = "docs", allowPaths: string[] = []) =>
  new ScriptedUpstream(name, async () => new Response("ok"), allowPaths);

test("dials /t/TUNNEL/connect with the token, says Hello with its servers and features, keeps the link alive with pings", async () => {
  harness = await startHarness([okUpstream("docs", ["/.well-known/oauth-protected-resource"]), okUpstream("wiki")]);
  const connection = await harness.edge.nextConnection();
  expect(harness.edge.upgrades[0]?.url).toBe(`/t/${TUNNEL}/connect`);
  expect(connection.headers.authorization).toBe(`Bearer ${GATEWAY_TOKEN}`);
  const hello = await connection.hello();
  expect(hello).toEqual({
    protocol: 1,
    gatewayId: harness.gateway.gatewayId,
    version: pkg.version,
    servers: [
      { name: "docs", kind: "http", allowPaths: ["/.well-known/oauth-protected-resource"] },
      { name: "wiki", kind: "http", allowPaths: [] },
    ],
    features: ["inline-bodies"],
    executors: [],
  });
  connection.welcome(TUNNEL, 25);
  await until(() => connection.pings >= 4, 5_000, "four pings");
  expect(harness.gateway.client.state).toBe("connected");
  const [connected] = await logged(harness, "connected");
  expect(connected).toMatchObject({ tunnel: TUNNEL, servers: "docs,wiki", pingIntervalMs: 25 });
});

test("two unanswered pings mean a dead link: the gateway reconnects as the same gateway", async () => {
  harness = await startHarness([okUpstream()]);
  const first = await harness.edge.nextConnection();
  const hello = await first.hello();
  first.answerPings = false;
  first.welcome(TUNNEL, 25);
  const second = await harness.edge.nextConnection();
  expect((await second.hello()).gatewayId).toBe(hello.gatewayId);
  await within(first.closed, 5_000, "the dead socket to close");
  expect(first.pings).toBe(2);
  expect((await logged(harness, "keepalive_lost"))[0]).toMatchObject({ missed: 2 });
});

test("a refused handshake is logged as an authentication problem with the edge's reason, and retried", async () => {
  harness = await startHarness([okUpstream()]);
  harness.edge.refuse(401, "invalid or revoked gateway token", 2);
  const connection = await harness.edge.nextConnection(10_000);
  await connection.hello();
  const refusals = await logged(harness, "auth_rejected", 2);
  expect(refusals[0]).toMatchObject({ status: 401, reason: "invalid or revoked gateway token" });
  expect(String(refusals[0]?.hint)).toContain("check --token");
  expect(harness.edge.upgrades).toHaveLength(3);
  expect(harness.events.filter((entry) => entry.event === "reconnecting").length).toBeGreaterThanOrEqual(2);
});

test("a 404 at the handshake says the tunnel is unknown or the token belongs elsewhere", async () => {
  harness = await startHarness([okUpstream()]);
  harness.edge.refuse(404, "no such tunnel", 1);
  await (await harness.edge.nextConnection(10_000)).hello();
  const [refusal] = await logged(harness, "auth_rejected");
  expect(refusal).toMatchObject({ status: 404, reason: "no such tunnel" });
  expect(String(refusal?.hint)).toContain(`tunnel "${TUNNEL}" does not exist`);
});

test("an edge that goes away: connection failures are retried until it answers again", async () => {
  harness = await startHarness([okUpstream()]);
  await harness.connected();
  const port = Number(new URL(harness.edge.url).port);
  await harness.edge.close();
  await logged(harness, "connect_failed", 2, 10_000);
  const revived = await startFakeEdge(port);
  try {
    const connection = await revived.nextConnection(10_000);
    expect((await connection.hello()).gatewayId).toBe(harness.gateway.gatewayId);
  } finally {
    await revived.close();
  }
});

test("a malformed frame from the edge: the gateway closes that socket with 4400 and reconnects", async () => {
  harness = await startHarness([okUpstream()]);
  const first = await harness.connected();
  first.ws.send(encodeFrame(0x7f as FrameType, 0));
  expect((await within(first.closed, 5_000, "close")).code).toBe(4400);
  await harness.connected();
  expect((await logged(harness, "protocol_error"))[0]?.error).toContain("unknown frame type 0x7f");
});

test("stop() sends GoAway, lets calls finish, refuses new ones, closes with 1000 and closes the upstreams", async () => {
  let release: (() => void) | undefined;
  const slow = new ScriptedUpstream("docs", async () => {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return new Response("finished");
  });
  harness = await startHarness([slow]);
  const connection = await harness.connected();
  connection.open(1, { server: "docs", method: "GET", path: "", query: "", headers: [], hasBody: false });
  await until(() => slow.calls.length === 1, 5_000, "the upstream call");
  const stopping = harness.gateway.stop();
  const goAway = await connection.frame((frame) => frame.type === FrameType.GoAway);
  expect(decodeJson(goAway, GoAwaySchema).reason).toBe("gateway shutting down");
  connection.open(2, { server: "docs", method: "GET", path: "", query: "", headers: [], hasBody: false });
  expect(await connection.resetOf(2)).toEqual({ code: "gateway_draining", message: "the gateway is shutting down" });
  release?.();
  const { body, ended } = await connection.readBody(1);
  expect([new TextDecoder().decode(body), ended]).toEqual(["finished", "end"]);
  await within(stopping, 10_000, "stop");
  expect((await within(connection.closed, 5_000, "close")).code).toBe(1000);
  expect(slow.closed).toBe(true);
  expect(harness.gateway.client.state).toBe("stopped");
  expect(slow.calls).toHaveLength(1);
});

test("the drain is bounded: calls still running at the deadline are reset and their upstream work aborted", async () => {
  const stuck = new ScriptedUpstream("docs", (call) => new Promise<Response>(() => void call.signal));
  harness = await startHarness([stuck], { drainTimeoutMs: 100 });
  const connection = await harness.connected();
  connection.open(1, { server: "docs", method: "GET", path: "", query: "", headers: [], hasBody: false });
  await until(() => stuck.calls.length === 1, 5_000, "the upstream call");
  await within(harness.gateway.stop(), 10_000, "stop");
  expect(await connection.resetOf(1)).toEqual({
    code: "gateway_draining",
    message: "the gateway shut down before the call finished",
  });
  expect(stuck.calls[0]?.signal.aborted).toBe(true);
  expect((await within(connection.closed, 5_000, "close")).code).toBe(1000);
  expect((await logged(harness, "drain_timeout"))[0]).toMatchObject({ reset: 1 });
});

test("draining ends standing event streams (an MCP GET stream) with END instead of waiting for them", async () => {
  let cancelled = false;
  const events = new ScriptedUpstream("docs", async () => {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode(": hello\n\n")),
      cancel: () => {
        cancelled = true;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  harness = await startHarness([events], { drainTimeoutMs: 60_000 });
  const connection = await harness.connected();
  connection.open(1, { server: "docs", method: "GET", path: "", query: "", headers: [], hasBody: false });
  await connection.frame((frame) => frame.stream === 1 && frame.type === FrameType.Data);
  await within(harness.gateway.stop(), 10_000, "stop with an event stream open");
  const { ended } = await connection.readBody(1);
  expect(ended).toBe("end");
  expect(cancelled).toBe(true);
  expect((await within(connection.closed, 5_000, "close")).code).toBe(1000);
});

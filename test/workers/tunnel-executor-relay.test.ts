/**
 * The relay's side of sandboxes on executors (TunnelRelay.executorRequest), against a gateway
 * played by the test (tunnel-sim-gateway.ts): which gateway gets the call (the pinned instance, or
 * the least busy announcing the executor), what the Open says, and a streamed request body pulled
 * only as the gateway grants credit (a large upload never sits in memory).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, test } from "vitest";
import type { ExecutorAnswer } from "../../durable-objects/tunnel-relay/executor-calls.ts";
import type { RpcResult } from "../../src/errors/rpc-result.ts";
import type { ExecutorAnnouncement } from "../../src/protocol/executor-api.ts";
import { decodeJson, encodeCreditFrame, FrameType } from "../../src/protocol/frames.ts";
import { OpenSchema } from "../../src/protocol/messages.ts";
import { INITIAL_STREAM_WINDOW } from "../../src/protocol/version.ts";
import { createTunnel, eventually, warmUpEdge, within } from "./tunnel-fixtures.ts";
import { SimGateway, text } from "./tunnel-sim-gateway.ts";

beforeAll(warmUpEdge);

const announce = (instance: string, name = "main"): ExecutorAnnouncement => ({
  name,
  instance,
  isolate: "none",
  network: "off",
  maxSessions: 4,
});

function relay(tunnel: string) {
  return env.TUNNEL_RELAY.get(env.TUNNEL_RELAY.idFromName(tunnel));
}

/** The RPC's answer, settled within the fixtures' bound (RPC stubs type each branch as its own promise). */
async function answerOf(pending: Promise<unknown>): Promise<RpcResult<ExecutorAnswer>> {
  return (await within(pending, "the answer")) as RpcResult<ExecutorAnswer>;
}

const get = (path: string) => ({ sandboxId: "sb1", method: "GET", path, headers: [], body: null });

describe("executorRequest", () => {
  test("goes to the gateway holding the pinned instance, as a stream to executor:NAME with the instance header", async () => {
    const tunnel = await createTunnel();
    const one = await SimGateway.connect(tunnel, { executors: [announce("inst-1")] });
    const two = await SimGateway.connect(tunnel, { executors: [announce("inst-2")] });
    const pending = relay(tunnel.name).executorRequest("main", "inst-2", get("/sandboxes/sb1"));
    const { stream, open } = await two.nextRequest();
    expect(open).toMatchObject({ server: "executor:main", method: "GET", path: "/sandboxes/sb1", hasBody: false });
    expect(open.headers).toContainEqual(["tether-executor-instance", "inst-2"]);
    two.respond(
      stream,
      200,
      [["content-type", "application/json"]],
      '{"exists":false,"workspaceBytes":0,"instance":"inst-2"}',
    );
    const answer = await answerOf(pending);
    if (!answer.ok) throw new Error(answer.error.message);
    expect(answer.value.instance).toBe("inst-2");
    expect(await answer.value.response.json()).toMatchObject({ instance: "inst-2" });
    expect(one.queued(stream)).toEqual([]);

    // No gateway serving the pinned instance: refused at once, naming executor and tunnel (503, Retry-After).
    two.close();
    await eventually(async () => !(await relay(tunnel.name).executorConnected("main", "inst-2")), "inst-2 gone");
    const refused = await relay(tunnel.name).executorRequest("main", "inst-2", get("/sandboxes/sb1"));
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe("no_gateway");
    expect(refused.error.headers["Retry-After"]).toMatch(/^\d+$/);
    expect(refused.error.message).toContain(`executor "main" on tunnel "${tunnel.name}" is not connected`);
    const other = await relay(tunnel.name).executorRequest("other", null, get("/sandboxes/sb1"));
    expect(other.ok).toBe(false);
    one.close();
  });

  test("a Hello naming an executor twice is a protocol error (4400)", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.dial(tunnel.name, tunnel.gatewayToken);
    if (gateway instanceof Response) throw new Error("refused");
    gateway.sendJson(FrameType.Hello, 0, {
      protocol: 1,
      gatewayId: "gw-twice",
      version: "test",
      servers: [],
      executors: [announce("a"), announce("b")],
    });
    const closed = await within(gateway.closed, "close");
    expect(closed.code).toBe(4400);
    expect(closed.reason).toContain("executor name twice");
  });

  test("a streamed request body is read only as the gateway grants credit, and arrives whole", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, { executors: [announce("inst-1")] });
    gateway.creditRequestBodies = false;
    const total = 8 * 1024 * 1024;
    const chunk = 64 * 1024;
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        controller.enqueue(new Uint8Array(chunk).fill((pulled / chunk) % 251));
        pulled += chunk;
      },
    });
    const pending = relay(tunnel.name).executorRequest("main", null, {
      sandboxId: "sb1",
      method: "PUT",
      path: "/sandboxes/sb1/files/workspace/big.bin",
      headers: [],
      body,
    });
    const openFrame = await gateway.take((f) => f.type === FrameType.Open, "Open");
    expect(decodeJson(openFrame, OpenSchema)).toMatchObject({ server: "executor:main", method: "PUT", hasBody: true });
    const stream = openFrame.stream;
    let received = 0;
    const takeData = async () => {
      const frame = await gateway.take((f) => f.stream === stream && f.type !== FrameType.Credit, "DATA or END");
      if (frame.type === FrameType.End) return false;
      expect(frame.type).toBe(FrameType.Data);
      received += frame.payload.byteLength;
      return true;
    };
    // Without credit, exactly one window arrives, and the source is not read to its end.
    while (received < INITIAL_STREAM_WINDOW) await takeData();
    expect(received).toBe(INITIAL_STREAM_WINDOW);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gateway.queued(stream).filter((f) => f.type === FrameType.Data)).toEqual([]);
    expect(pulled).toBeLessThan(total);
    // Credit as an upstream that keeps up would grant it: the rest flows, then END.
    gateway.send(encodeCreditFrame(stream, total));
    while (await takeData());
    expect(received).toBe(total);
    gateway.respond(
      stream,
      200,
      [["content-type", "application/json"]],
      '{"path":"/workspace/big.bin","bytes":8388608,"created":true}',
    );
    const answer = await answerOf(pending);
    if (!answer.ok) throw new Error(answer.error.message);
    expect(text(new Uint8Array(await answer.value.response.arrayBuffer()))).toContain('"bytes":8388608');
    gateway.close();
  });
});

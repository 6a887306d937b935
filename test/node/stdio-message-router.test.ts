/**
 * Which HTTP stream each message of a stdio server goes out on.
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { MessageRouter } from "../../src/gateway/stdio/message-router.ts";

const call = (id: number, progressToken?: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "t", arguments: {}, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) },
});
const result = (id: number | string): JSONRPCMessage => ({ jsonrpc: "2.0", id, result: {} });
const progress = (progressToken: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { progressToken, progress: 1 },
});
const log: JSONRPCMessage = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x" } };
const sampling = (id: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  id,
  method: "sampling/createMessage",
  params: { messages: [], maxTokens: 1 },
});
const cancelled = (requestId: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/cancelled",
  params: { requestId },
});

describe("MessageRouter", () => {
  it("sends a response on the stream of the request it answers and forgets that request", () => {
    const router = new MessageRouter();
    router.fromClient(call(1));
    router.fromClient(call(2));
    expect(router.toClient(result(1))).toEqual({ kind: "request", requestId: 1 });
    expect(router.inFlightIds()).toEqual([2]);
  });

  it("sends progress on the stream of the request that carries its token, and drops it once that request is done", () => {
    const router = new MessageRouter();
    router.fromClient(call(1, 100));
    router.fromClient(call(2, 200));
    expect(router.toClient(progress(100))).toEqual({ kind: "request", requestId: 1 });
    expect(router.toClient(progress(200))).toEqual({ kind: "request", requestId: 2 });
    router.toClient(result(1));
    expect(router.toClient(progress(100))).toMatchObject({ kind: "drop" });
  });

  it("sends server requests and logging on the most recent in-flight request's stream, else on the GET stream", () => {
    const router = new MessageRouter();
    expect(router.toClient(sampling(50))).toEqual({ kind: "standalone" });
    expect(router.toClient(log)).toEqual({ kind: "standalone" });
    router.fromClient(call(1));
    router.fromClient(call(2));
    expect(router.toClient(sampling(51))).toEqual({ kind: "request", requestId: 2 });
    expect(router.toClient(log)).toEqual({ kind: "request", requestId: 2 });
    router.toClient(result(2));
    expect(router.toClient(log)).toEqual({ kind: "request", requestId: 1 });
  });

  it("sends other notifications on the GET stream even while requests are in flight", () => {
    const router = new MessageRouter();
    router.fromClient(call(1));
    expect(router.toClient({ jsonrpc: "2.0", method: "notifications/tools/list_changed" })).toEqual({
      kind: "standalone",
    });
  });

  it("sends a server's cancellation of its own request where that request went", () => {
    const router = new MessageRouter();
    router.fromClient(call(1));
    router.toClient(sampling(60));
    router.fromClient(call(2));
    expect(router.toClient(cancelled(60))).toEqual({ kind: "request", requestId: 1 });
    router.toClient(sampling(61));
    router.fromClient(result(61)); // answered by the client
    router.toClient(result(2));
    router.toClient(result(1));
    expect(router.toClient(cancelled(61))).toEqual({ kind: "standalone" });
  });

  it("reports a client cancellation of an in-flight request and stops routing its progress", () => {
    const router = new MessageRouter();
    router.fromClient(call(1, 100));
    expect(router.fromClient(cancelled(1))).toBe(1);
    expect(router.inFlightCount).toBe(0);
    expect(router.toClient(progress(100))).toMatchObject({ kind: "drop" });
    expect(router.fromClient(cancelled(1))).toBeUndefined();
    expect(router.fromClient(cancelled(99))).toBeUndefined();
  });

  it("keeps ids of different types apart", () => {
    const router = new MessageRouter();
    router.fromClient({ jsonrpc: "2.0", id: "1", method: "ping" });
    router.fromClient({ jsonrpc: "2.0", id: 1, method: "ping" });
    router.toClient(result("1"));
    expect(router.inFlightIds()).toEqual([1]);
  });
});

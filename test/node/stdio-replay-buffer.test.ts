/**
 * The stdio adapter's replay buffer (the SDK transport's event store) on its own: ids, per-stream
 * replay, and its bounds by count and by bytes.
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { ReplayBuffer } from "../../src/gateway/stdio/replay-buffer.ts";

const progress = (n: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { progressToken: "t", progress: n },
});
const result = (id: number): JSONRPCMessage => ({ jsonrpc: "2.0", id, result: { content: [] } });
const bytesOf = (message: JSONRPCMessage) => Buffer.byteLength(JSON.stringify(message));

async function replay(
  buffer: ReplayBuffer,
  from: string,
): Promise<{ stream: string; sent: [string, JSONRPCMessage][] }> {
  const sent: [string, JSONRPCMessage][] = [];
  const stream = await buffer.replayEventsAfter(from, {
    send: async (id, message) => {
      sent.push([id, message]);
    },
  });
  return { stream, sent };
}

describe("ReplayBuffer", () => {
  it("replays what followed a cursor on its own stream only, without priming events", async () => {
    const buffer = new ReplayBuffer({ maxEvents: 100, maxBytes: 1 << 20 });
    const prime = await buffer.storeEvent("a", {} as JSONRPCMessage);
    const first = await buffer.storeEvent("a", progress(1));
    await buffer.storeEvent("b", progress(99));
    const second = await buffer.storeEvent("a", progress(2));
    const done = await buffer.storeEvent("a", result(7));
    expect(new Set([prime, first, second, done]).size).toBe(4);

    expect(await replay(buffer, prime)).toEqual({
      stream: "a",
      sent: [
        [first, progress(1)],
        [second, progress(2)],
        [done, result(7)],
      ],
    });
    expect((await replay(buffer, second)).sent).toEqual([[done, result(7)]]);
    expect(buffer.cursor(first)).toEqual({ streamId: "a", complete: true });
    expect(buffer.cursor(await buffer.storeEvent("b", progress(100)))).toEqual({ streamId: "b", complete: false });
  });

  it("keeps at most maxEvents: the oldest go first and their cursors become unknown", async () => {
    const buffer = new ReplayBuffer({ maxEvents: 3, maxBytes: 1 << 20 });
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) ids.push(await buffer.storeEvent("s", progress(n)));
    expect(buffer.size.events).toBe(3);
    expect(buffer.size.bytes).toBe(bytesOf(progress(3)) + bytesOf(progress(4)) + bytesOf(progress(5)));
    expect(buffer.cursor(ids[0] ?? "")).toBeUndefined();
    expect(buffer.cursor(ids[1] ?? "")).toBeUndefined();
    await expect(replay(buffer, ids[1] ?? "")).rejects.toThrow(/is not kept for replay/);
    expect((await replay(buffer, ids[2] ?? "")).sent.map(([, message]) => message)).toEqual([progress(4), progress(5)]);
  });

  it("keeps at most maxBytes; an event larger than the bound is not kept, nor anything before it", async () => {
    const one = bytesOf(progress(1));
    const buffer = new ReplayBuffer({ maxEvents: 100, maxBytes: 2 * one + 1 });
    const a = await buffer.storeEvent("s", progress(1));
    const b = await buffer.storeEvent("s", progress(2));
    const c = await buffer.storeEvent("s", progress(3));
    expect(buffer.size).toEqual({ events: 2, bytes: 2 * one });
    expect(buffer.cursor(a)).toBeUndefined();
    expect(buffer.cursor(b)).toBeDefined();

    const huge: JSONRPCMessage = { jsonrpc: "2.0", id: 1, result: { text: "x".repeat(4 * one) } };
    await buffer.storeEvent("s", huge);
    // A cursor before the huge event would replay without it: no cursor survives it.
    expect(buffer.size).toEqual({ events: 0, bytes: 0 });
    expect(buffer.cursor(b)).toBeUndefined();
    expect(buffer.cursor(c)).toBeUndefined();
    const after = await buffer.storeEvent("s", progress(4));
    expect(buffer.cursor(after)).toEqual({ streamId: "s", complete: false });
  });

  it("refuses ids it never issued, and keeps nothing once cleared", async () => {
    const buffer = new ReplayBuffer({ maxEvents: 10, maxBytes: 1 << 20 });
    const id = await buffer.storeEvent("s", progress(1));
    for (const bad of ["", "0", "-1", "1.5", "abc", "99", `${id} `, "1".repeat(40)]) {
      expect(buffer.cursor(bad)).toBeUndefined();
    }
    buffer.clear();
    expect(buffer.size).toEqual({ events: 0, bytes: 0 });
    expect(buffer.cursor(id)).toBeUndefined();
    const later = await buffer.storeEvent("s", progress(2));
    expect(later).not.toBe(id);
    expect(buffer.size.events).toBe(0);
  });
});

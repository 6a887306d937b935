/**
 * Resuming a broken SSE stream of a stdio server with Last-Event-ID: the adapter in front of the
 * real server-everything, the official SDK client (which resumes on its own), and streams cut by
 * the test right after a chosen event (never by a timer).
 */
import {
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { progressOf, responsesTo, type SseCutter, sseCutter } from "../helpers/sse-cut.ts";
import { everythingFixture, type Fixture, until, within } from "../helpers/stdio-fixtures.ts";

const isProgress = (message: JSONRPCMessage) => "method" in message && message.method === "notifications/progress";

/** Reads a body to its end or its break; true when it ended normally. */
async function drain(response: Response): Promise<boolean> {
  const reader = response.body?.getReader();
  if (!reader) return true;
  try {
    for (;;) if ((await reader.read()).done) return true;
  } catch {
    return false;
  }
}

function headers(sessionId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-session-id": sessionId,
    "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
    ...extra,
  };
}

/** POSTs a long-running tool call with progress token `token` through `cutter`. */
function longCall(fx: Fixture, cutter: SseCutter, sessionId: string, id: number, token: string, steps: number) {
  return cutter.fetch(fx.url, {
    method: "POST",
    headers: headers(sessionId),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name: "trigger-long-running-operation",
        arguments: { duration: steps * 0.2, steps },
        _meta: { progressToken: token },
      },
    }),
  });
}

const childAnswered = (fx: Fixture, id: number) =>
  fx.crossings.some((c) => c.direction === "server-to-client" && !("method" in c.message) && c.message.id === id);

describe("stdio adapter: resuming a broken stream", { timeout: 60_000 }, () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await everythingFixture();
  });
  afterAll(async () => {
    await fx.stop();
  });

  it("the SDK client resumes a call cut after its first progress event: every event once, one result", async () => {
    const cutter = sseCutter(isProgress);
    const { client } = await fx.connect({ fetch: cutter.fetch });
    const seen: number[] = [];
    const result = await within(
      client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 1, steps: 5 } }, undefined, {
        onprogress: (p) => seen.push(p.progress),
      }),
      30_000,
      "the resumed call",
    );
    expect(JSON.stringify(result.content)).toContain("Long running operation completed");
    expect(cutter.cuts).toBe(1);
    expect(cutter.resumes).toHaveLength(1);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const token = cutter.delivered.map((d) => d.message).find(isProgress);
    const id = token && "params" in token ? (token.params?.progressToken as number) : -1;
    expect(progressOf(cutter.delivered, id)).toEqual([1, 2, 3, 4, 5]);
    expect(responsesTo(cutter.delivered, id)).toHaveLength(1);
    // The session carries on.
    expect((await client.callTool({ name: "echo", arguments: { message: "after" } })).content).toEqual([
      { type: "text", text: "Echo: after" },
    ]);
  });

  it("a stream whose call finished while the client was away: the replay ends with the result", async () => {
    const { sessionId } = await fx.connect();
    const cutter = sseCutter(isProgress);
    expect(await drain(await longCall(fx, cutter, sessionId, 41, "p41", 3))).toBe(false);
    const cursor = cutter.delivered.at(-1)?.eventId ?? "";
    await until(() => childAnswered(fx, 41), 15_000, "the server to finish the call");

    const resumed = await cutter.fetch(fx.url, { headers: headers(sessionId, { "last-event-id": cursor }) });
    expect(resumed.status).toBe(200);
    expect(await within(drain(resumed), 10_000, "the replayed stream to end")).toBe(true);
    expect(progressOf(cutter.delivered, "p41")).toEqual([1, 2, 3]);
    const answers = responsesTo(cutter.delivered, 41);
    expect(answers).toHaveLength(1);
    expect(JSON.stringify(answers[0])).toContain("Long running operation completed");
    // Only the missed part came back, the result last.
    expect(cutter.delivered.filter((d) => d.via === "GET").at(-1)?.message).toEqual(answers[0]);
  });

  it("the GET stream cut after its first message resumes too: the server's roots/list is answered once", async () => {
    // server-everything asks for roots right after initialized; that request travels on the GET stream.
    const cutter = sseCutter((_message, via) => via === "GET");
    let asked = 0;
    const { sessionId } = await fx.connect({
      fetch: cutter.fetch,
      capabilities: { roots: { listChanged: true } },
      setup: (client) =>
        client.setRequestHandler(ListRootsRequestSchema, async () => {
          asked++;
          return { roots: [{ uri: "file:///tmp", name: "tmp" }] };
        }),
    });
    const rootsAnswered = () =>
      fx.crossings.some(
        (c) =>
          c.sessionId === sessionId &&
          c.direction === "client-to-server" &&
          !("method" in c.message) &&
          "result" in c.message &&
          "roots" in c.message.result,
      );
    await until(rootsAnswered, 15_000, "the client to answer roots/list");
    await until(() => cutter.resumes.length === 1, 15_000, "the client to resume its GET stream");
    expect(cutter.cuts).toBe(1);
    expect(asked).toBe(1);
    const overGet = cutter.delivered.filter((d) => d.via === "GET");
    expect(overGet.filter((d) => "method" in d.message && d.message.method === "roots/list")).toHaveLength(1);
    // No event reached the client twice.
    const ids = overGet.map((d) => d.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a cursor the session no longer keeps (or never issued) is refused with 400, naming the bounds", async () => {
    const small = await everythingFixture({ replayMaxEvents: 3 });
    try {
      const { sessionId } = await small.connect();
      const cutter = sseCutter(isProgress);
      expect(await drain(await longCall(small, cutter, sessionId, 42, "p42", 4))).toBe(false);
      const first = cutter.delivered.at(-1)?.eventId ?? "";
      await until(() => childAnswered(small, 42), 15_000, "the server to finish the call");
      await until(() => (small.upstream.sessions()[0]?.replay.events ?? 0) === 3, 5_000, "the buffer to be full");

      for (const cursor of [first, "no-such-event", "999999"]) {
        const refused = await fetch(small.url, { headers: headers(sessionId, { "last-event-id": cursor }) });
        expect(refused.status).toBe(400);
        expect(await refused.json()).toMatchObject({
          jsonrpc: "2.0",
          error: { message: expect.stringMatching(/no longer keeps it \(a session keeps its last 3 events/) },
        });
      }
      // The session itself is unharmed.
      expect(small.upstream.sessions()).toHaveLength(1);
      expect(small.upstream.sessions()[0]?.replay).toEqual({ events: 3, bytes: expect.any(Number) });
    } finally {
      await small.stop();
    }
  });
});

/**
 * The stdio adapter serving the real server-everything (a child process per MCP session) to the
 * official SDK client over real HTTP.
 */
import { CallToolResultSchema, type JSONRPCMessage, LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerSampling } from "../helpers/mcp-client.ts";
import { everythingFixture, type Fixture, isAlive, sseReader, until, within } from "../helpers/stdio-fixtures.ts";

const ACCEPT = "application/json, text/event-stream";

function text(result: unknown): string {
  const parsed = CallToolResultSchema.parse(result);
  return parsed.content.map((block) => (block.type === "text" ? block.text : "")).join("");
}

describe("stdio adapter: server-everything", { timeout: 60_000 }, () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await everythingFixture();
  });
  afterAll(async () => {
    await fx.stop();
  });

  /** The id of the last request of `method` the client sent in `sessionId`. */
  function lastRequestId(sessionId: string, method: string): string | number {
    const message = fx.crossings
      .filter((c) => c.sessionId === sessionId && c.direction === "client-to-server")
      .map((c) => c.message)
      .findLast((m) => "method" in m && "id" in m && m.method === method);
    if (!message || !("id" in message) || message.id === undefined) throw new Error(`no ${method} request`);
    return message.id;
  }

  function childAnswered(sessionId: string, id: string | number): boolean {
    return fx.crossings.some(
      (c) =>
        c.sessionId === sessionId &&
        c.direction === "server-to-client" &&
        !("method" in c.message) &&
        c.message.id === id,
    );
  }

  it("initializes, lists tools and calls echo through its own child", async () => {
    const { client, sessionId } = await fx.connect();
    expect(sessionId).not.toBe("");
    expect(client.getServerVersion()?.name).toContain("everything");
    const session = fx.upstream.sessions().find((s) => s.id === sessionId);
    expect(session && isAlive(session.pid)).toBe(true);

    const { tools } = await within(client.listTools(), 10_000, "tools/list");
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "trigger-long-running-operation"]));
    const result = await within(client.callTool({ name: "echo", arguments: { message: "hi" } }), 10_000, "echo");
    expect(text(result)).toBe("Echo: hi");
  });

  it("streams progress to the client while the call is still running", async () => {
    const { client, sessionId } = await fx.connect();
    const seen: { progress: number; childHadAnswered: boolean }[] = [];
    const result = await within(
      client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } }, undefined, {
        onprogress: (p) => {
          const id = lastRequestId(sessionId, "tools/call");
          seen.push({ progress: p.progress, childHadAnswered: childAnswered(sessionId, id) });
        },
      }),
      20_000,
      "long-running operation",
    );
    expect(text(result)).toContain("Long running operation completed");
    expect(seen.map((s) => s.progress)).toEqual([1, 2, 3, 4]);
    // The first progress event reached the client before the server had even produced its result
    // (the last one may race with it): the adapter streams, it does not collect the response first.
    expect(seen[0]?.childHadAnswered).toBe(false);
  });

  it("relays a sampling request to the client and its answer back to the server", async () => {
    const sampling = answerSampling("sampled reply");
    const { client } = await fx.connect(sampling);
    const result = await within(
      client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "tell me", maxTokens: 10 } }),
      20_000,
      "sampling tool",
    );
    expect(sampling.prompts).toHaveLength(1);
    expect(sampling.prompts[0]).toContain("tell me");
    expect(text(result)).toContain("sampled reply");
  });

  it("forwards cancellation to the child; the client gets its error and the session keeps working", async () => {
    const { client, sessionId } = await fx.connect();
    const abort = new AbortController();
    const call = client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } },
      undefined,
      { signal: abort.signal, onprogress: () => abort.abort(new Error("user pressed stop")) },
    );
    await expect(within(call, 20_000, "cancelled call")).rejects.toThrow(/user pressed stop/);
    const id = lastRequestId(sessionId, "tools/call");

    await until(
      () =>
        fx.crossings.some(
          (c) =>
            c.sessionId === sessionId &&
            c.direction === "client-to-server" &&
            "method" in c.message &&
            c.message.method === "notifications/cancelled" &&
            c.message.params?.requestId === id,
        ),
      5_000,
      "notifications/cancelled to reach the child",
    );
    // The tool keeps sleeping through its steps; once its last step passed, the server would have
    // answered right after, and then the echo below, in that order on its stdout.
    await until(
      () =>
        fx.crossings.some(
          (c) =>
            c.sessionId === sessionId &&
            "method" in c.message &&
            c.message.method === "notifications/progress" &&
            c.message.params?.progress === 4,
        ),
      15_000,
      "the cancelled operation's last step",
    );
    const echo = await within(client.callTool({ name: "echo", arguments: { message: "still here" } }), 10_000, "echo");
    expect(text(echo)).toBe("Echo: still here");
    // The server honoured the cancellation: it never answered the cancelled request.
    expect(childAnswered(sessionId, id)).toBe(false);
  });

  it("gives two concurrent sessions two children", async () => {
    const a = await fx.connect();
    const b = await fx.connect();
    expect(a.sessionId).not.toBe(b.sessionId);
    const pidA = fx.upstream.sessions().find((s) => s.id === a.sessionId)?.pid;
    const pidB = fx.upstream.sessions().find((s) => s.id === b.sessionId)?.pid;
    expect(pidA).toBeGreaterThan(0);
    expect(pidB).toBeGreaterThan(0);
    expect(pidA).not.toBe(pidB);
    const [ra, rb] = await within(
      Promise.all([
        a.client.callTool({ name: "echo", arguments: { message: "a" } }),
        b.client.callTool({ name: "echo", arguments: { message: "b" } }),
      ]),
      10_000,
      "two echoes",
    );
    expect(text(ra)).toBe("Echo: a");
    expect(text(rb)).toBe("Echo: b");
  });

  it("ends the session and kills its child on DELETE; the id then gets 404", async () => {
    const { client, transport, sessionId } = await fx.connect();
    const pid = fx.upstream.sessions().find((s) => s.id === sessionId)?.pid ?? 0;
    expect(isAlive(pid)).toBe(true);
    await within(transport.terminateSession(), 10_000, "DELETE");
    expect(isAlive(pid)).toBe(false);
    expect(fx.upstream.sessions().some((s) => s.id === sessionId)).toBe(false);
    // The SDK client forgets a terminated session's id, so ask with it by hand.
    const again = await fetch(fx.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT, "mcp-session-id": sessionId },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
    });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { message: expect.stringMatching(/not found/) } });
    await client.close();
  });

  it("answers an unknown session with 404, a missing one with 400, other paths 404, all JSON-RPC", async () => {
    const sessionsBefore = fx.upstream.sessions().length;
    const request = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
    const unknown = await fetch(fx.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT, "mcp-session-id": "no-such-session" },
      body: JSON.stringify(request),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      jsonrpc: "2.0",
      error: { message: expect.stringMatching(/not found/) },
    });

    const missing = await fetch(fx.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT },
      body: JSON.stringify(request),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ jsonrpc: "2.0", error: { message: /Mcp-Session-Id/ } });

    const get = await fetch(fx.url, { headers: { accept: "text/event-stream" } });
    expect(get.status).toBe(400);
    await get.body?.cancel();
    const del = await fetch(fx.url, { method: "DELETE", headers: { "mcp-session-id": "no-such-session" } });
    expect(del.status).toBe(404);
    await del.body?.cancel();

    const otherPath = await fetch(`${fx.url}/.well-known/anything`, { headers: { accept: ACCEPT } });
    expect(otherPath.status).toBe(404);
    expect(await otherPath.json()).toMatchObject({ error: { message: /has no path/ } });
    const put = await fetch(fx.url, { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST, DELETE");
    await put.body?.cancel();
    const notJson = await fetch(fx.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { message: /not JSON/ } });
    // None of these started a child.
    expect(fx.upstream.sessions().length).toBe(sessionsBefore);
  });

  it("sends server requests with no call in flight on the GET stream; a second GET replaces the first and the child lives on", async () => {
    const headers = (sessionId?: string): Record<string, string> => ({
      "content-type": "application/json",
      accept: ACCEPT,
      "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
      ...(sessionId ? { "mcp-session-id": sessionId } : {}),
    });
    const post = (message: JSONRPCMessage, sessionId?: string) =>
      fetch(fx.url, { method: "POST", headers: headers(sessionId), body: JSON.stringify(message) });
    const getStream = (sessionId: string) =>
      fetch(fx.url, { headers: { ...headers(sessionId), accept: "text/event-stream" } });

    const init = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: { roots: { listChanged: true } },
        clientInfo: { name: "raw", version: "1" },
      },
    });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get("mcp-session-id") ?? "";
    const initEvents = sseReader(init.body as ReadableStream<Uint8Array>);
    expect(await initEvents.next(10_000)).toMatchObject({ id: 1, result: { protocolVersion: expect.any(String) } });
    const pid = fx.upstream.sessions().find((s) => s.id === sessionId)?.pid ?? 0;

    // server-everything asks for roots as soon as it is initialized, before any GET stream exists.
    expect((await post({ jsonrpc: "2.0", method: "notifications/initialized" }, sessionId)).status).toBe(202);
    const first = await getStream(sessionId);
    expect(first.status).toBe(200);
    const firstEvents = sseReader(first.body as ReadableStream<Uint8Array>);
    // What the server said before the stream existed was kept for it (list_changed, then roots/list).
    let rootsRequest: JSONRPCMessage | undefined;
    for (let i = 0; i < 5 && !rootsRequest; i++) {
      const message = await firstEvents.next(10_000);
      if (message && "method" in message && message.method === "roots/list") rootsRequest = message;
    }
    expect(rootsRequest).toMatchObject({ method: "roots/list" });

    const second = await getStream(sessionId);
    expect(second.status).toBe(200);
    expect(await firstEvents.next(5_000)).toBeUndefined(); // the first stream ended cleanly
    expect(isAlive(pid)).toBe(true);

    const secondEvents = sseReader(second.body as ReadableStream<Uint8Array>);
    const rootsId = rootsRequest && "id" in rootsRequest ? rootsRequest.id : undefined;
    expect(rootsId).toBeDefined();
    const answer = await post(
      { jsonrpc: "2.0", id: rootsId as string | number, result: { roots: [{ uri: "file:///tmp", name: "tmp" }] } },
      sessionId,
    );
    expect(answer.status).toBe(202);
    // The server reacts with a log message; no call is in flight, so it arrives on the new GET stream.
    const log = await secondEvents.next(10_000);
    expect(log).toMatchObject({
      method: "notifications/message",
      params: { data: expect.stringMatching(/Roots updated/) },
    });

    const call = await post(
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { message: "x" } } },
      sessionId,
    );
    const callEvents = sseReader(call.body as ReadableStream<Uint8Array>);
    expect(await callEvents.next(10_000)).toMatchObject({ id: 2, result: { content: [{ text: "Echo: x" }] } });

    const del = await fetch(fx.url, { method: "DELETE", headers: headers(sessionId) });
    expect(del.status).toBe(200);
    expect(isAlive(pid)).toBe(false);
    expect(await secondEvents.next(5_000)).toBeUndefined();
    await initEvents.cancel();
  });
});

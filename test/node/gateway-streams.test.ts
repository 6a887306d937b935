import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { HttpUpstream } from "../../src/gateway/http-upstream.ts";
import { FrameType } from "../../src/protocol/frames.ts";
import type { Open } from "../../src/protocol/messages.ts";
import { INITIAL_STREAM_WINDOW, MAX_DATA_FRAME } from "../../src/protocol/version.ts";
import { type Harness, logged, ScriptedUpstream, startHarness, text } from "../helpers/gateway-harness.ts";
import { until, within } from "../helpers/stdio-fixtures.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const get = (server = "docs", extra: Partial<Open> = {}): Open => ({
  server,
  method: "GET",
  path: "",
  query: "",
  headers: [],
  hasBody: false,
  ...extra,
});
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test("relays a request: the upstream sees method, path, query, headers and the streamed body; Head, DATA, END come back", async () => {
  const echo = new ScriptedUpstream("docs", async ({ request, path }) => {
    const seen = {
      method: request.method,
      url: request.url,
      path,
      type: request.headers.get("content-type"),
      agent: request.headers.get("x-agent"),
      body: await request.text(),
    };
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    return new Response(JSON.stringify(seen), { status: 201, headers });
  });
  harness = await startHarness([echo]);
  const edge = await harness.connected();
  edge.open(1, {
    server: "docs",
    method: "POST",
    path: "",
    query: "?a=1",
    headers: [
      ["content-type", "application/json"],
      ["x-agent", "claude"],
    ],
    hasBody: true,
  });
  edge.data(1, text("hello "));
  edge.data(1, text("world"));
  edge.end(1);
  const head = await edge.head(1);
  expect(head.status).toBe(201);
  expect(head.headers.filter(([name]) => name === "set-cookie")).toEqual([
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
  ]);
  const { body, ended } = await edge.readBody(1);
  expect(ended).toBe("end");
  expect(JSON.parse(decode(body))).toEqual({
    method: "POST",
    url: "http://upstream.tether.invalid/?a=1",
    path: "",
    type: "application/json",
    agent: "claude",
    body: "hello world",
  });
});

test("request bodies: credit is granted as the upstream reads, and an edge overrunning its window is cut off", async () => {
  const total = 1024 * 1024;
  let received = 0;
  const reader = new ScriptedUpstream("docs", async ({ request }) => {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.byteLength;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return new Response(String(received));
  });
  harness = await startHarness([reader]);
  const edge = await harness.connected();
  edge.open(1, { ...get(), method: "POST", hasBody: true });
  // Play the edge: never more than the window beyond the credit granted.
  let sent = 0;
  while (sent < total) {
    if (sent + MAX_DATA_FRAME - edge.creditGranted(1) > INITIAL_STREAM_WINDOW) {
      const granted = edge.creditGranted(1);
      await until(() => edge.creditGranted(1) > granted, 5_000, "credit for the request body");
      continue;
    }
    edge.data(1, new Uint8Array(MAX_DATA_FRAME).fill(7));
    sent += MAX_DATA_FRAME;
  }
  edge.end(1);
  const { body } = await edge.readBody(1);
  expect(Number(decode(body))).toBe(total);
  expect(edge.creditGranted(1)).toBeGreaterThanOrEqual(total - INITIAL_STREAM_WINDOW);

  // An edge that ignores credit: the gateway treats it as a protocol error.
  const stalled = new ScriptedUpstream("docs", () => new Promise<Response>(() => {}));
  await harness.stop();
  harness = await startHarness([stalled]);
  const rude = await harness.connected();
  rude.open(1, { ...get(), method: "POST", hasBody: true });
  await until(() => stalled.calls.length === 1, 5_000, "the upstream call");
  for (let i = 0; i <= INITIAL_STREAM_WINDOW / MAX_DATA_FRAME; i++) rude.data(1, new Uint8Array(MAX_DATA_FRAME));
  expect((await within(rude.closed, 5_000, "the connection to close")).code).toBe(4400);
  expect((await logged(harness, "protocol_error"))[0]?.error).toContain("more request body than its credit allowed");
  await until(() => stalled.calls[0]?.signal.aborted === true, 5_000, "the upstream call to be aborted");
});

test("response bodies: never more than the window in flight without credit, and never held whole", async () => {
  const total = 2 * 1024 * 1024;
  const chunk = 16 * 1024;
  let produced = 0;
  const digest = createHash("sha256");
  const big = new ScriptedUpstream("docs", async () => {
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (produced >= total) return controller.close();
          const bytes = new Uint8Array(chunk).map((_, i) => (produced + i) % 251);
          digest.update(bytes);
          produced += chunk;
          controller.enqueue(bytes);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body);
  });
  harness = await startHarness([big]);
  const edge = await harness.connected();
  let maxInFlight = 0;
  let maxAhead = 0;
  edge.onMessage(() => {
    const received = edge.bodyBytes(1);
    maxInFlight = Math.max(maxInFlight, received - creditSent);
    maxAhead = Math.max(maxAhead, produced - received);
  });
  let creditSent = 0;
  edge.open(1, get());
  await edge.head(1);
  // No credit yet: the gateway sends exactly one window, then waits.
  await until(() => edge.bodyBytes(1) === INITIAL_STREAM_WINDOW, 5_000, "a full window");
  expect(produced).toBeLessThanOrEqual(INITIAL_STREAM_WINDOW + 4 * MAX_DATA_FRAME);
  // Then the edge consumes slowly, granting credit in small steps until END.
  const received = createHash("sha256");
  let seen = 0;
  let ended = false;
  while (!ended) {
    const frames = edge.streamFrames(1);
    for (; seen < frames.length; seen++) {
      const frame = frames[seen];
      if (frame?.type === FrameType.Data) received.update(frame.payload);
      if (frame?.type === FrameType.End) ended = true;
    }
    if (ended) break;
    edge.credit(1, MAX_DATA_FRAME);
    creditSent += MAX_DATA_FRAME;
    const before = edge.streamFrames(1).length;
    await until(
      () => edge.streamFrames(1).length > before || edge.bodyBytes(1) - creditSent === INITIAL_STREAM_WINDOW,
      5_000,
      "more of the body",
    );
  }
  expect(received.digest("hex")).toBe(digest.digest("hex"));
  expect(edge.bodyBytes(1)).toBe(total);
  expect(maxInFlight).toBe(INITIAL_STREAM_WINDOW);
  // What was read from the upstream but not yet at the edge: the window on the wire plus a few
  // chunks in the pipe, never the body.
  expect(maxAhead).toBeLessThanOrEqual(INITIAL_STREAM_WINDOW + 4 * MAX_DATA_FRAME);
});

test("a Reset from the edge aborts the upstream call and cancels its body; nothing more is sent on that stream", async () => {
  let cancelled = false;
  const sse = new ScriptedUpstream(
    "docs",
    async ({ path }) => {
      if (path === "/quick") return new Response("quick");
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(text("event: message\ndata: {}\n\n"));
        },
        cancel() {
          cancelled = true;
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
    ["/quick"],
  );
  const pending = new ScriptedUpstream("slow", () => new Promise<Response>(() => {}));
  harness = await startHarness([sse, pending]);
  const edge = await harness.connected();
  edge.open(1, get());
  await edge.frame((frame) => frame.stream === 1 && frame.type === FrameType.Data);
  edge.reset(1, { code: "cancelled", message: "the agent went away" });
  await until(() => cancelled && sse.calls[0]?.signal.aborted === true, 5_000, "the upstream body to be cancelled");

  // A Reset before the upstream answered aborts the call too.
  edge.open(3, get("slow"));
  await until(() => pending.calls.length === 1, 5_000, "the slow call");
  edge.reset(3, { code: "cancelled", message: "the agent went away" });
  await until(() => pending.calls[0]?.signal.aborted === true, 5_000, "the slow call to be aborted");

  // A later stream completes, so anything the gateway still had for 1 or 3 would have arrived.
  edge.open(5, get("docs", { path: "/quick" }));
  expect(decode((await edge.readBody(5)).body)).toBe("quick");
  const gatewayFrames = (stream: number) => edge.streamFrames(stream).map((frame) => frame.type);
  expect(gatewayFrames(1)).not.toContain(FrameType.End);
  expect(gatewayFrames(1)).not.toContain(FrameType.Reset);
  expect(gatewayFrames(3)).toEqual([]);
});

test("the link dropping mid-call aborts the upstream calls", async () => {
  const pending = new ScriptedUpstream("docs", () => new Promise<Response>(() => {}));
  harness = await startHarness([pending]);
  const edge = await harness.connected();
  edge.open(1, get());
  edge.open(2, get());
  await until(() => pending.calls.length === 2, 5_000, "two calls");
  edge.ws.terminate();
  await until(() => pending.calls.every((call) => call.signal.aborted), 5_000, "both calls to be aborted");
  await harness.connected();
});

test("an unreachable HTTP upstream: Reset upstream_unavailable naming the server", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  harness = await startHarness([new HttpUpstream({ name: "docs", url: `http://127.0.0.1:${port}/mcp` })]);
  const edge = await harness.connected();
  edge.open(1, { ...get(), method: "POST", hasBody: true });
  edge.data(1, text("{}"));
  edge.end(1);
  const reset = await edge.resetOf(1);
  expect(reset.code).toBe("upstream_unavailable");
  expect(reset.message).toBe('server "docs" is unreachable (ECONNREFUSED)');
  expect((await logged(harness, "upstream_failed"))[0]).toMatchObject({ server: "docs", stream: 1 });
});

test("unknown servers and paths that are not allowed get Reset not_found without reaching an upstream", async () => {
  const docs = new ScriptedUpstream("docs", async () => new Response("ok"), ["/files/*", "/.well-known/x"]);
  harness = await startHarness([docs]);
  const edge = await harness.connected();
  edge.open(1, get("wiki"));
  expect(await edge.resetOf(1)).toEqual({ code: "not_found", message: 'no server "wiki" on this gateway' });
  edge.open(2, get("docs", { path: "/admin" }));
  expect((await edge.resetOf(2)).code).toBe("not_found");
  edge.open(3, get("docs", { path: "/files/../admin" }));
  expect((await edge.resetOf(3)).code).toBe("not_found");
  edge.open(4, get("docs", { path: "/files/%2E%2E/admin" }));
  expect((await edge.resetOf(4)).code).toBe("not_found");
  edge.open(5, get("docs", { path: "/files/report.txt" }));
  expect(decode((await edge.readBody(5)).body)).toBe("ok");
  expect(docs.calls.map((call) => call.path)).toEqual(["/files/report.txt"]);
});

test("concurrent streams are multiplexed over the one connection", async () => {
  const echo = new ScriptedUpstream("docs", async ({ request }) => {
    const body = await request.text();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
    return new Response(body.toUpperCase());
  });
  harness = await startHarness([echo]);
  const edge = await harness.connected();
  const ids = Array.from({ length: 24 }, (_, i) => 2 * i + 1);
  for (const id of ids) {
    edge.open(id, { ...get(), method: "POST", hasBody: true });
    edge.data(id, text(`call ${id}`));
  }
  for (const id of ids) edge.end(id);
  const bodies = await Promise.all(ids.map(async (id) => decode((await edge.readBody(id)).body)));
  expect(bodies).toEqual(ids.map((id) => `CALL ${id}`));
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { HttpUpstream } from "../../src/gateway/http-upstream.ts";
import { FrameType } from "../../src/protocol/frames.ts";
import type { Open } from "../../src/protocol/messages.ts";
import { Feature, MAX_INLINE_BODY } from "../../src/protocol/version.ts";
import { type Harness, startHarness, text } from "../helpers/gateway-harness.ts";

let harness: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP upstream on 127.0.0.1, behind an HttpUpstream named "docs". */
async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<HttpUpstream> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return new HttpUpstream({ name: "docs", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` });
}

const post = (extra: Partial<Open> = {}): Open => ({
  server: "docs",
  method: "POST",
  path: "",
  query: "",
  headers: [["content-type", "application/json"]],
  hasBody: true,
  ...extra,
});
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const INLINE = [Feature.inlineBodies];

test("to an edge that takes inline bodies: the OpenBody's body reaches the upstream whole, with its length, and a small answer goes back as one HeadBody", async () => {
  let seen: { length?: string; chunked?: string; body: string } | undefined;
  const docs = await upstream(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    seen = { length: req.headers["content-length"], chunked: req.headers["transfer-encoding"], body };
    res.writeHead(200, { "content-type": "application/json", "x-upstream": "1" });
    res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
  });
  harness = await startHarness([docs]);
  const edge = await harness.connected(60_000, INLINE);
  const request = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
  edge.openBody(1, post(), text(request));

  const { head, body } = await edge.headBody(1);
  expect(seen).toEqual({ length: String(request.length), chunked: undefined, body: request });
  expect(head.status).toBe(200);
  const headers = new Map(head.headers);
  expect(headers.get("x-upstream")).toBe("1");
  // Headers about the upstream connection are not relayed.
  expect(headers.has("connection")).toBe(false);
  expect(headers.has("keep-alive")).toBe(false);
  expect(decode(body)).toBe('{"jsonrpc":"2.0","id":1,"result":{}}');
  // One frame was the whole answer: no DATA or END followed, and no Credit was needed for the request.
  expect(edge.streamFrames(1).map((frame) => frame.type)).toEqual([FrameType.HeadBody]);
});

test("a large answer, or one still streaming, goes as Head, DATA…, END within credit even to such an edge", async () => {
  const big = "x".repeat(3 * MAX_INLINE_BODY);
  // The slow answer ends only once the edge has seen its head: it cannot be complete by then.
  let sendRest = () => {};
  const restReleased = new Promise<void>((resolve) => {
    sendRest = resolve;
  });
  const docs = await upstream((req, res) => {
    if (req.url?.endsWith("?slow")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"part":1,');
      void restReleased.then(() => res.end('"part2":2}'));
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(big);
  });
  harness = await startHarness([docs]);
  const edge = await harness.connected(60_000, INLINE);
  edge.openBody(1, post(), text("{}"));
  const large = await edge.readBody(1);
  expect(large.ended).toBe("end");
  expect(decode(large.body)).toBe(big);
  expect(edge.streamFrames(1)[0]?.type).toBe(FrameType.Head);

  edge.openBody(3, post({ query: "?slow" }), text("{}"));
  expect((await edge.head(3)).status).toBe(200);
  sendRest();
  const slow = await edge.readBody(3);
  expect(decode(slow.body)).toBe('{"part":1,"part2":2}');
  expect(edge.streamFrames(3)[0]?.type).toBe(FrameType.Head);
});

test("a standing event stream is announced at once with Head, not held back to see whether it ends", async () => {
  const docs = await upstream((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
  });
  harness = await startHarness([docs]);
  const edge = await harness.connected(60_000, INLINE);
  edge.open(1, { ...post(), method: "GET", hasBody: false });
  expect((await edge.head(1)).status).toBe(200);
  expect(edge.bodyBytes(1)).toBe(0);
  edge.reset(1, { code: "cancelled", message: "the agent went away" });
});

test("an edge that did not announce inline bodies gets Head, DATA, END; a small request body costs no Credit", async () => {
  const docs = await upstream(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  harness = await startHarness([docs]);
  const edge = await harness.connected();
  edge.open(1, post());
  edge.data(1, text('{"small":true}'));
  edge.end(1);
  const { body, ended } = await edge.readBody(1);
  expect([ended, decode(body)]).toEqual(["end", '{"small":true}']);
  expect(edge.streamFrames(1).map((frame) => frame.type)).toEqual([FrameType.Head, FrameType.Data, FrameType.End]);
  expect(edge.creditGranted(1)).toBe(0);
});

test("an OpenBody whose JSON length is wrong, or that says there is no body, closes the connection (4400)", async () => {
  const docs = await upstream((_req, res) => res.end("unused"));
  harness = await startHarness([docs]);
  const edge = await harness.connected(60_000, INLINE);
  const frame = new Uint8Array([FrameType.OpenBody, 0, 0, 0, 1, 0, 0, 1, 0, 0x7b]);
  edge.ws.send(frame);
  expect((await edge.closed).code).toBe(4400);

  const again = await harness.connected(60_000, INLINE);
  again.openBody(1, post({ hasBody: false }), text("{}"));
  expect((await again.closed).code).toBe(4400);
});

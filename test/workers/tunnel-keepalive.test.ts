import { describe, expect, test } from "vitest";
import { SseBoundary } from "../../durable-objects/tunnel-relay/sse-keep-alive.ts";
import { agentFetch, createTunnel, jsonRpc, POST_JSON, SSE_GET, SSE_HEADERS, warmUpEdge } from "./tunnel-fixtures.ts";
import { BodyReader, SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const KEEP_ALIVE = ": keep-alive\n\n";
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function boundaryAfter(...chunks: string[]): boolean {
  const boundary = new SseBoundary();
  for (const chunk of chunks) boundary.push(new TextEncoder().encode(chunk));
  return boundary.atBoundary;
}

describe("SSE event boundaries", () => {
  test.each([
    [[], true],
    [["data: x\n\n"], true],
    [["data: x\r\n\r\n"], true],
    [["data: x\r\r"], true],
    [["data: x\n"], false],
    [["data: x"], false],
    [["data: x\n", "\n"], true],
    [["data: x\r"], false],
    [["data: x\r\n\r"], true], // a late LF of this CRLF would only add a blank line
    [["data: x\r\n\r", "\n"], true],
    [["data: x\n\ndata: y"], false],
    [["data: x\n\n", ": comment\n"], false],
    [["event: a\ndata: 1\ndata: 2\n\n"], true],
  ] as Array<[string[], boolean]>)("after %j: %s", (chunks, expected) => {
    expect(boundaryAfter(...chunks)).toBe(expected);
  });
});

describe("SSE keep-alives", () => {
  test("an idle SSE response gets keep-alive comments between events, never inside one", async () => {
    const tunnel = await createTunnel({ sseKeepAliveMs: 20 });
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", SSE_GET);
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, SSE_HEADERS);
    const reader = new BodyReader(await call);
    // Before any event, and after a complete one, silence is filled with comments.
    await reader.until(KEEP_ALIVE);
    gateway.data(stream, "event: message\ndata: first\n\n");
    await reader.until(`data: first\n\n${KEEP_ALIVE}`);
    // Half an event, then silence many intervals long: no comment may land inside it.
    gateway.data(stream, "event: message\ndata: sec");
    await pause(300);
    gateway.data(stream, "ond\n\n");
    await reader.until("data: second\n\n");
    gateway.end(stream);
    const all = await reader.rest();
    expect(all).toContain("event: message\ndata: second\n\n");
    // Every block between blank lines is either a whole event or a whole comment.
    const blocks = all.split("\n\n").filter(Boolean);
    for (const block of blocks)
      expect(["event: message\ndata: first", "event: message\ndata: second", ": keep-alive"]).toContain(block);
    expect(blocks.filter((block) => block === ": keep-alive").length).toBeGreaterThanOrEqual(2);
    gateway.close();
  });

  test("keep-alives are never added to JSON responses", async () => {
    const tunnel = await createTunnel({ sseKeepAliveMs: 10 });
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const { stream } = await gateway.nextRequest();
    gateway.head(stream, 200, [["content-type", "application/json"]]);
    gateway.data(stream, '{"jsonrpc":"2.0",');
    await pause(200);
    gateway.data(stream, '"id":1,"result":{}}');
    gateway.end(stream);
    expect(await (await call).text()).toBe('{"jsonrpc":"2.0","id":1,"result":{}}');
    gateway.close();
  });

  test("with the default interval (15 s) a short SSE response is relayed byte for byte", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("tools/call") });
    const { stream } = await gateway.nextRequest();
    gateway.respond(stream, 200, SSE_HEADERS, "data: {}\n\n");
    expect(await (await call).text()).toBe("data: {}\n\n");
    gateway.close();
  });
});

/**
 * The test helper that cuts SSE streams (test/helpers/sse-cut.ts) must report what the client
 * really received, or the resume tests built on it would blame the server for the helper's own
 * bookkeeping. A real HTTP server on 127.0.0.1 sends a priming event and two messages in one write.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { sseCutter } from "../helpers/sse-cut.ts";

const progress = (n: number) => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { progressToken: 7, progress: n },
});

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    if (request.headers["last-event-id"]) {
      response.end(`id: 3\ndata: ${JSON.stringify(progress(2))}\n\n`);
      return;
    }
    // One chunk: the priming event, progress 1 (the cut), progress 2 (lost with the connection).
    response.write(
      `id: 1\ndata: \n\nid: 2\ndata: ${JSON.stringify(progress(1))}\n\nid: 3\ndata: ${JSON.stringify(progress(2))}\n\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Reads a body until it breaks; the text read before the break. */
async function readUntilBroken(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    try {
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended instead of breaking");
      text += decoder.decode(value, { stream: true });
    } catch (error) {
      if (String(error).includes("cut by the test")) return text;
      throw error;
    }
  }
}

test("the cut event reaches the reader; what followed it is dropped, and never counted as delivered", async () => {
  const cutter = sseCutter((message) => "method" in message);
  const text = await readUntilBroken(await cutter.fetch(url, { method: "POST" }));
  expect(text).toContain('"progress":1');
  expect(text).not.toContain('"progress":2');
  expect(cutter.cuts).toBe(1);
  expect(cutter.delivered.map((entry) => entry.eventId)).toEqual(["2"]);
});

test("a resume from an earlier event moves what the client says it missed from delivered to lost", async () => {
  const cutter = sseCutter((message) => "method" in message);
  await readUntilBroken(await cutter.fetch(url, { method: "POST" }));
  // As if the client's pipeline dropped progress 1 when the error reached it: it resumes from the priming event.
  const resumed = await cutter.fetch(url, { method: "GET", headers: { "last-event-id": "1" } });
  await resumed.text();
  expect(cutter.resumes).toEqual(["1"]);
  expect(cutter.lost.map((entry) => entry.eventId)).toEqual(["2"]);
  expect(cutter.delivered.map((entry) => [entry.via, entry.eventId])).toEqual([["GET", "3"]]);
});

test("a resume from the cut event itself loses nothing", async () => {
  const cutter = sseCutter((message) => "method" in message);
  await readUntilBroken(await cutter.fetch(url, { method: "POST" }));
  await (await cutter.fetch(url, { method: "GET", headers: { "last-event-id": "2" } })).text();
  expect(cutter.lost).toEqual([]);
  expect(cutter.delivered.map((entry) => [entry.via, entry.eventId])).toEqual([
    ["POST", "2"],
    ["GET", "3"],
  ]);
});

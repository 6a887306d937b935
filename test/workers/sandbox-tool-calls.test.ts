import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, test } from "vitest";
import {
  bash,
  call,
  createSandbox,
  readRest,
  readUntil,
  sandboxStub,
  startStreamedBash,
  type ToolResultJson,
  toolCalls,
  warmUp,
} from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

const write = (id: string, file_path: string, content: string) => ({
  type: "tool_use",
  id,
  name: "write",
  input: { file_path, content },
});
const read = (id: string, file_path: string) => ({ type: "tool_use", id, name: "read", input: { file_path } });

function sseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>;
      return { event, data };
    });
}

describe("answer formats", () => {
  test("application/json: content is the tool_result blocks in order, meta beside them", async () => {
    const sandbox = await createSandbox();
    const res = await toolCalls(sandbox, [write("w1", "a.txt", "one\ntwo\n"), read("r1", "a.txt")]);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as ToolResultJson;
    expect(body.content.map((c) => c.tool_use_id)).toEqual(["w1", "r1"]);
    expect(body.content[1]).toMatchObject({ type: "tool_result", is_error: false });
    expect(body.content[1]!.content[0]!.text).toContain("one");
    expect(body.meta[1]).toMatchObject({ tool_use_id: "r1", name: "read", truncated: false });
  });

  test("text/event-stream: started, result per block, then done", async () => {
    const sandbox = await createSandbox();
    const res = await toolCalls(sandbox, [write("w1", "b.txt", "B"), read("r1", "b.txt")], "text/event-stream");
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = sseEvents(await res.text()).filter((e) => e.event !== "heartbeat");
    expect(events.map((e) => `${e.event}:${(e.data.tool_use_id as string | undefined) ?? ""}`)).toEqual([
      "started:w1",
      "result:w1",
      "started:r1",
      "result:r1",
      "done:",
    ]);
    expect(events[3]!.data).toMatchObject({ result: { type: "tool_result", tool_use_id: "r1", is_error: false } });
  });

  test("application/x-ndjson: the same events, one JSON object a line", async () => {
    const sandbox = await createSandbox();
    const res = await toolCalls(sandbox, write("w1", "c.txt", "C"), "application/x-ndjson");
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string });
    expect(lines.map((l) => l.event).filter((e) => e !== "heartbeat")).toEqual(["started", "result", "done"]);
  });
});

describe("bad bodies", () => {
  test("a body that is not tool_use blocks is 400 naming what is wrong, and nothing runs", async () => {
    const sandbox = await createSandbox();
    for (const body of [
      { hello: 1 },
      [],
      [{ type: "text", text: "hi" }],
      "just a string",
      [write("w", "x.txt", "x"), { type: "tool_use", id: "y" }],
    ]) {
      const res = await toolCalls(sandbox, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    }
    const res = await call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
      method: "POST",
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect((await call(`/v1/sandboxes/${sandbox.id}/files/workspace/x.txt`, sandbox.token)).status).toBe(404);
  });

  test("a body over the 1 MiB limit is 413", async () => {
    const sandbox = await createSandbox();
    const res = await toolCalls(sandbox, write("big", "big.txt", "x".repeat(1024 * 1024 + 1)));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("1 MiB");
    expect((await call(`/v1/sandboxes/${sandbox.id}/files/workspace/big.txt`, sandbox.token)).status).toBe(404);
  });

  test("an unknown tool among valid ones gets an is_error result listing the tools; the others run", async () => {
    const sandbox = await createSandbox();
    const res = await toolCalls(sandbox, [
      write("w1", "d.txt", "D"),
      { type: "tool_use", id: "u1", name: "teleport", input: {} },
      read("r1", "d.txt"),
    ]);
    const body = (await res.json()) as ToolResultJson;
    expect(body.content.map((c) => c.is_error)).toEqual([false, true, false]);
    expect(body.content[1]!.content[0]!.text).toMatch(/unknown tool "teleport".*bash.*read.*write/);
  });
});

describe("serialisation", () => {
  test("a call arriving while another runs waits for it (arrival order, one at a time)", async () => {
    const sandbox = await createSandbox();
    const { reader } = await startStreamedBash(sandbox, { command: "sleep 0.5; echo slow >> order.txt" });
    // The slow call is running now; this one must wait for it.
    const quick = await bash(sandbox, "echo quick >> order.txt");
    expect(quick.isError).toBe(false);
    await readRest(reader);
    const order = await bash(sandbox, "cat order.txt");
    expect(order.text).toBe("slow\nquick\n");
  });
});

describe("heartbeats", () => {
  const streams = [
    { format: "text/event-stream", heartbeat: "event: heartbeat" },
    { format: "application/x-ndjson", heartbeat: '{"event":"heartbeat"}' },
  ] as const;

  function kindsOf(text: string, format: (typeof streams)[number]["format"]): string[] {
    if (format === "text/event-stream") return sseEvents(text).map((e) => e.event);
    return text
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { event: string }).event);
  }

  for (const { format, heartbeat } of streams) {
    test(`${format}: a long call sends heartbeats between its started and result events`, async () => {
      const sandbox = await createSandbox();
      // Production sends one every 10 s; this object sends them every 100 ms.
      await runInDurableObject(sandboxStub(sandbox.id), (instance) => {
        instance.streamOptions = { heartbeatIntervalMs: 100 };
      });
      // The command waits for a file the test creates only once a heartbeat has arrived after
      // `started`: heartbeats are seen during the call whatever the machine's pace.
      const { response, reader, head } = await startStreamedBash(
        sandbox,
        { command: "until [ -f go ]; do sleep 0.05; done; echo went", timeout_ms: 10_000 },
        format,
      );
      expect(response.headers.get("content-type")).toContain(format);
      let text = head + (await readUntil(reader, heartbeat));
      const go = await call(`/v1/sandboxes/${sandbox.id}/files/workspace/go`, sandbox.token, {
        method: "PUT",
        body: "",
      });
      expect(go.status).toBe(201);
      text += await readRest(reader);

      const kinds = kindsOf(text, format);
      expect(kinds.filter((kind) => kind !== "heartbeat")).toEqual(["started", "output", "result", "done"]);
      const during = kinds.slice(kinds.indexOf("started") + 1, kinds.indexOf("result"));
      expect(during).toContain("heartbeat");
      expect(text).toContain("went");
    });
  }
});

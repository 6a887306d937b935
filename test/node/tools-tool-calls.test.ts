import { describe, expect, it } from "vitest";
import { isTetherError, type TetherError } from "../../src/errors/tether-error.ts";
import { type ToolCallEvent, ToolCallStreamEventSchema } from "../../src/sandbox/tool-calls/events.ts";
import { collectToolCallsJson, type ToolCallsJson } from "../../src/sandbox/tool-calls/json.ts";
import { encodeNdjsonEvent, toNdjsonStream } from "../../src/sandbox/tool-calls/ndjson.ts";
import { parseToolCallBody } from "../../src/sandbox/tool-calls/request-body.ts";
import { negotiateToolCallsFormat, toolCallsResponse } from "../../src/sandbox/tool-calls/respond.ts";
import { runToolCalls } from "../../src/sandbox/tool-calls/run-tool-calls.ts";
import { encodeSseEvent, toSseStream } from "../../src/sandbox/tool-calls/sse.ts";
import type { ToolUseBlock } from "../../src/sandbox/tool-calls/tool-use-block.ts";
import { testToolContext } from "../helpers/tool-context.ts";

const use = (id: string, name: string, input: Record<string, unknown>): ToolUseBlock => ({
  type: "tool_use",
  id,
  name,
  input,
});

async function collect(events: AsyncIterable<ToolCallEvent>): Promise<ToolCallEvent[]> {
  const out: ToolCallEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

function thrown(fn: () => unknown): TetherError {
  try {
    fn();
  } catch (error) {
    if (isTetherError(error)) return error;
    throw error;
  }
  throw new Error("expected a TetherError");
}

describe("parseToolCallBody", () => {
  it("accepts one block or an array, dropping unknown fields", () => {
    const block = { type: "tool_use", id: "toolu_1", name: "read", input: { file_path: "a" }, cache_control: null };
    expect(parseToolCallBody(block)).toEqual([use("toolu_1", "read", { file_path: "a" })]);
    expect(parseToolCallBody([block, { ...block, id: "toolu_2" }]).map((b) => b.id)).toEqual(["toolu_1", "toolu_2"]);
  });

  it("refuses bodies that are not tool_use blocks with a bad_request naming the problem", () => {
    const shape = 'a tool_use block ({"type": "tool_use", "id", "name", "input"}) or a non-empty array of them';
    const cases: [unknown, string][] = [
      [null, `the body must be ${shape}`],
      ["bash ls", `the body must be ${shape}`],
      [[], `empty array: the body must be ${shape}`],
      [
        { type: "text", text: "hi" },
        'invalid tool_use block: type: expected "tool_use"; id: required; name: required; input: required',
      ],
      [[use("a", "bash", {}), 3], "invalid tool_use block at [1]: expected an object"],
      [
        [{ type: "tool_use", id: "a", name: "bash", input: "ls" }],
        "invalid tool_use block at [0]: input: expected record, received string",
      ],
      [[use("a", "bash", {}), use("a", "read", {})], 'duplicate tool_use id "a" at [1]: each block needs its own id'],
    ];
    for (const [body, message] of cases) {
      const error = thrown(() => parseToolCallBody(body));
      expect(error.code).toBe("bad_request");
      expect(error.status).toBe(400);
      expect(error.message).toBe(message);
    }
  });
});

describe("runToolCalls", () => {
  it("runs blocks in order; an unknown tool gets an is_error result and the others still run", async () => {
    const ctx = testToolContext({ "/workspace/a.txt": "hello\n" });
    ctx.bash.chunks = [
      { stream: "stdout", text: "one\n" },
      { stream: "stderr", text: "two\n" },
    ];
    ctx.bash.respond = () => ({ stdout: "one\n", stderr: "two\n", exitCode: 1, truncated: false });
    const events = await collect(
      runToolCalls(
        [use("t1", "read", { file_path: "a.txt" }), use("t2", "teleport", {}), use("t3", "bash", { command: "x" })],
        ctx,
      ),
    );
    expect(events.map((e) => (e.event === "output" ? `output:${e.stream}` : `${e.event}`))).toEqual([
      "started",
      "result",
      "started",
      "result",
      "started",
      "output:stdout",
      "output:stderr",
      "result",
      "done",
    ]);
    const results = events.flatMap((e) => (e.event === "result" ? [e] : []));
    expect(results[0]?.result).toEqual({
      type: "tool_result",
      tool_use_id: "t1",
      content: [{ type: "text", text: "     1\thello" }],
      is_error: false,
    });
    expect(results[1]?.result.is_error).toBe(true);
    expect(results[1]?.result.content[0]?.text).toMatch(/^unknown tool "teleport"; known tools: bash, read, /);
    expect(results[1]?.meta).toMatchObject({ tool_use_id: "t2", name: "teleport", error_kind: "unknown_tool" });
    expect(results[2]?.result.content).toEqual([{ type: "text", text: "one\ntwo\nexit code: 1" }]);
    expect(results[2]?.result.is_error).toBe(false);
    const meta = results[2]?.meta;
    expect(meta).toMatchObject({ tool_use_id: "t3", name: "bash", exit_code: 1, truncated: false, bytes_out: 20 });
    expect(meta?.error_kind).toBeUndefined();
    expect(meta?.duration_ms).toBeGreaterThanOrEqual(0);
    for (const event of events) expect(ToolCallStreamEventSchema.safeParse(event).success).toBe(true);
  });

  it("stops before the next block once the signal is aborted", async () => {
    const ctx = testToolContext();
    const abort = new AbortController();
    ctx.bash.respond = () => {
      abort.abort();
      return { stdout: "", stderr: "", exitCode: 0, truncated: false };
    };
    const events = await collect(
      runToolCalls([use("t1", "bash", { command: "a" }), use("t2", "bash", { command: "b" })], ctx, {
        signal: abort.signal,
      }),
    );
    expect(events.map((e) => e.event)).toEqual(["started", "result"]);
    expect(ctx.bash.calls.map((c) => c.command)).toEqual(["a"]);
  });
});

describe("encoders", () => {
  const blocks = [use("t1", "write", { file_path: "n.txt", content: "x" }), use("t2", "read", { file_path: 1 })];

  it("JSON: content is exactly the tool_result blocks, meta beside it", async () => {
    const answer = await collectToolCallsJson(runToolCalls(blocks, testToolContext()));
    expect(answer.content).toEqual([
      {
        type: "tool_result",
        tool_use_id: "t1",
        content: [{ type: "text", text: "File created successfully at: /workspace/n.txt (1 bytes)." }],
        is_error: false,
      },
      {
        type: "tool_result",
        tool_use_id: "t2",
        content: [{ type: "text", text: "invalid input for read: file_path: expected string, received number" }],
        is_error: true,
      },
    ]);
    expect(answer.meta.map((m) => [m.tool_use_id, m.error_kind])).toEqual([
      ["t1", undefined],
      ["t2", "invalid_input"],
    ]);
  });

  it("SSE: parseable event/data pairs whose data carries the event", async () => {
    const text = await new Response(toSseStream(runToolCalls(blocks, testToolContext()))).text();
    const messages = text.split("\n\n").filter(Boolean);
    const parsed = messages.map((message) => {
      const [eventLine, dataLine, ...rest] = message.split("\n");
      expect(rest).toEqual([]);
      const data = JSON.parse(dataLine?.replace(/^data: /, "") ?? "");
      expect(eventLine).toBe(`event: ${data.event}`);
      return ToolCallStreamEventSchema.parse(data);
    });
    expect(parsed.map((e) => e.event)).toEqual(["started", "result", "started", "result", "done"]);
    expect(encodeSseEvent({ event: "done" })).toBe('event: done\ndata: {"event":"done"}\n\n');
    expect(encodeSseEvent({ event: "heartbeat" })).toBe('event: heartbeat\ndata: {"event":"heartbeat"}\n\n');
  });

  it("NDJSON: one JSON object per line with its event field", async () => {
    const text = await new Response(toNdjsonStream(runToolCalls(blocks, testToolContext()))).text();
    expect(text.endsWith("\n")).toBe(true);
    const events = text
      .trimEnd()
      .split("\n")
      .map((line) => ToolCallStreamEventSchema.parse(JSON.parse(line)));
    expect(events.map((e) => e.event)).toEqual(["started", "result", "started", "result", "done"]);
    expect(encodeNdjsonEvent({ event: "heartbeat" })).toBe('{"event":"heartbeat"}\n');
  });

  it("streams heartbeats while a call is running", async () => {
    const ctx = testToolContext();
    let finish: () => void = () => {};
    ctx.bash.respond = () =>
      new Promise((resolve) => {
        finish = () => resolve({ stdout: "late\n", stderr: "", exitCode: 0, truncated: false });
      });
    const stream = toNdjsonStream(runToolCalls([use("t1", "bash", { command: "slow" })], ctx), {
      heartbeatIntervalMs: 5,
    });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let text = "";
    // The shell answers only once a heartbeat has been seen, so the test does not depend on timing.
    while (!text.includes('{"event":"heartbeat"}')) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended before a heartbeat");
      text += decoder.decode(value);
    }
    finish();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    const kinds = text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line).event);
    expect(kinds.filter((k) => k !== "heartbeat")).toEqual(["started", "result", "done"]);
    expect(kinds.indexOf("heartbeat")).toBeLessThan(kinds.indexOf("result"));
  });

  it("cancelling the stream stops the remaining blocks", async () => {
    const ctx = testToolContext();
    let released = false;
    async function* tracked() {
      try {
        yield* runToolCalls([use("t1", "bash", { command: "a" }), use("t2", "bash", { command: "b" })], ctx);
      } finally {
        released = true;
      }
    }
    const stream = toSseStream(tracked());
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("event: result")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended before the first result");
      text += decoder.decode(value);
    }
    await reader.cancel();
    expect(released).toBe(true);
    expect(ctx.bash.calls.map((c) => c.command)).toEqual(["a"]);
  });
});

describe("negotiation", () => {
  it("picks the format Accept asks for, JSON by default", async () => {
    expect(negotiateToolCallsFormat(null)).toBe("json");
    expect(negotiateToolCallsFormat("*/*")).toBe("json");
    expect(negotiateToolCallsFormat("text/event-stream")).toBe("sse");
    expect(negotiateToolCallsFormat("application/x-ndjson")).toBe("ndjson");
    expect(negotiateToolCallsFormat("application/json, text/event-stream")).toBe("json");
    expect(negotiateToolCallsFormat("application/json;q=0.5, text/event-stream")).toBe("sse");
    const response = await toolCallsResponse(runToolCalls([], testToolContext()), "sse");
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await response.text()).toBe('event: done\ndata: {"event":"done"}\n\n');
    const json = await toolCallsResponse(runToolCalls([use("t", "nope", {})], testToolContext()), "json");
    const body = (await json.json()) as ToolCallsJson;
    expect(body.content[0]?.is_error).toBe(true);
  });
});

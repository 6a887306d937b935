/**
 * A tool call the platform cuts off (the sandbox's Durable Object exceeds its CPU limit and is
 * reset) still answers: every block without a result gets an `is_error` result in the format
 * asked for, over MCP a failed tool's result, and the next call works with earlier files intact.
 * The cut is simulated by resetting the object (ctx.abort) when a run reaches a chosen block.
 */
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { beforeAll, describe, expect, test } from "vitest";
import { guardMcpStream, guardStream } from "../../src/sandbox/tool-calls/cut-off.ts";
import type { ToolCallEvent } from "../../src/sandbox/tool-calls/events.ts";
import { encodeNdjsonEvent } from "../../src/sandbox/tool-calls/ndjson.ts";
import { encodeSseEvent } from "../../src/sandbox/tool-calls/sse.ts";
import type { ToolUseBlock } from "../../src/sandbox/tool-calls/tool-use-block.ts";
import {
  bash,
  type Created,
  expectKept,
  preparedSandbox,
  readRest,
  sandboxStub,
  type ToolResultJson,
  toolCalls,
  warmUp,
} from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

describe("a call the platform cuts off still answers", () => {
  const blocks = [
    { type: "tool_use", id: "tu_before", name: "bash", input: { command: "echo before > before.txt; echo ran" } },
    { type: "tool_use", id: "tu_cut", name: "bash", input: { command: "echo never > cut.txt" } },
    { type: "tool_use", id: "tu_after", name: "bash", input: { command: "echo never either" } },
  ];

  async function cutAt(sandbox: Created, id: string): Promise<void> {
    await runInDurableObject(sandboxStub(sandbox.id), (instance: { cutOffAtForTest?: string }) => {
      instance.cutOffAtForTest = id;
    });
  }

  test("JSON: every block gets a result, the cut ones is_error saying so; the next call works", async () => {
    const sandbox = await preparedSandbox();
    await cutAt(sandbox, "tu_cut");
    const res = await toolCalls(sandbox, blocks);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ToolResultJson;
    expect(body.content.map((c) => [c.tool_use_id, c.is_error])).toEqual([
      ["tu_before", true],
      ["tu_cut", true],
      ["tu_after", true],
    ]);
    expect(body.meta.map((m) => m.error_kind)).toEqual(["interrupted", "interrupted", "interrupted"]);
    expect(body.content[1]!.content[0]!.text).toMatch(
      /^interrupted: the sandbox was stopped by the platform during this call \(.+\)\. It may have run in part \(check what it writes\); files and shell state from earlier calls are kept/,
    );
    await expectKept(sandbox);
    expect((await bash(sandbox, "test -e cut.txt; echo $?")).text).toBe("1\n");
  });

  for (const [format, accept] of [
    ["SSE", "text/event-stream"],
    ["NDJSON", "application/x-ndjson"],
  ] as const) {
    test(`${format}: one result per block in order, the cut and later ones is_error, then done`, async () => {
      const sandbox = await preparedSandbox();
      await cutAt(sandbox, "tu_cut");
      const res = await toolCalls(sandbox, blocks, accept);
      expect(res.status).toBe(200);
      const events = parseEvents(await readRest(res.body!.pipeThrough(new TextDecoderStream()).getReader()));
      const results = events.filter((e) => e.event === "result");
      expect(results.map((e) => e.tool_use_id)).toEqual(["tu_before", "tu_cut", "tu_after"]);
      // The first block's own result may or may not have left the object before the reset (the
      // platform drops output not yet confirmed): either it, or the cut-off result, is right.
      const first = results[0]!;
      if (first.result?.is_error) expect(first.meta?.error_kind).toBe("interrupted");
      else expect(first.result?.content[0]?.text).toBe("ran\n");
      expect(results.slice(1).map((e) => [e.result?.is_error, e.meta?.error_kind])).toEqual([
        [true, "interrupted"],
        [true, "interrupted"],
      ]);
      expect(events.at(-1)?.event).toBe("done");
      await expectKept(sandbox);
      expect((await bash(sandbox, "echo next")).text).toBe("next\n");
    });

    test(`${format}: a stream that breaks after a result keeps it and closes the others`, async () => {
      const encoder = new TextEncoder();
      const sent = format === "SSE" ? encodeSseEvent : encodeNdjsonEvent;
      const first: ToolCallEvent = {
        event: "result",
        tool_use_id: "tu_before",
        result: {
          type: "tool_result",
          tool_use_id: "tu_before",
          content: [{ type: "text", text: "ran\n" }],
          is_error: false,
        },
        meta: { tool_use_id: "tu_before", name: "bash", duration_ms: 1, truncated: false, bytes_out: 4 },
      };
      let step = 0;
      // Stands in for the RPC stream of an object that is reset mid-answer: a whole event, half of
      // the next, then the error the caller sees.
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          step++;
          if (step === 1)
            controller.enqueue(
              encoder.encode(sent({ event: "started", tool_use_id: "tu_before", name: "bash" }) + sent(first)),
            );
          else if (step === 2)
            controller.enqueue(
              encoder.encode(sent({ event: "started", tool_use_id: "tu_cut", name: "bash" }).slice(0, 12)),
            );
          else controller.error(new Error("Durable Object reset because its code exceeded CPU time limit"));
        },
      });
      const guarded = guardStream(new Response(source), blocks as ToolUseBlock[], format === "SSE" ? "sse" : "ndjson");
      const events = parseEvents(await guarded.text());
      const results = events.filter((e) => e.event === "result");
      expect(results.map((e) => [e.tool_use_id, e.result?.is_error])).toEqual([
        ["tu_before", false],
        ["tu_cut", true],
        ["tu_after", true],
      ]);
      expect(results[1]?.result?.content[0]?.text).toContain(
        "(Durable Object reset because its code exceeded CPU time limit)",
      );
      expect(events.at(-1)?.event).toBe("done");
    });
  }
});

describe("an MCP tools/call the platform cuts off", () => {
  test("is a tool result with isError (official client), and the next call works", async () => {
    const sandbox = await preparedSandbox();
    const transport = new StreamableHTTPClientTransport(new URL(`http://edge/v1/sandboxes/${sandbox.id}/mcp`), {
      fetch: (url, init) => exports.default.fetch(url, init),
      requestInit: { headers: { authorization: `Bearer ${sandbox.token}` } },
    });
    const client = new Client({ name: "sandbox-cpu-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await runInDurableObject(sandboxStub(sandbox.id), (instance: { cutOffAtForTest?: string }) => {
        instance.cutOffAtForTest = "*";
      });
      const cut = await client.callTool({ name: "bash", arguments: { command: "echo never" } });
      expect(cut.isError).toBe(true);
      const text = (cut.content as Array<{ text: string }>).map((c) => c.text).join("");
      expect(text).toMatch(/^interrupted: the sandbox was stopped by the platform during this call/);
      const next = await client.callTool({ name: "bash", arguments: { command: "cat keep.txt" } });
      expect(next.isError).toBe(false);
      expect((next.content as Array<{ text: string }>)[0]?.text).toBe("kept\n");
    } finally {
      await client.close();
    }
  });
});

describe("an MCP answer streamed as SSE that breaks", () => {
  const encoder = new TextEncoder();
  function breakingStream(chunks: string[]): Response {
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[step++];
        if (chunk === undefined) controller.error(new Error("Durable Object exceeded its CPU time limit"));
        else controller.enqueue(encoder.encode(chunk));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }
  const progress = 'event: message\ndata: {"method":"notifications/progress","params":{"progress":1}}\n\n';

  test("ends with the failed tool's result for the call it was answering", async () => {
    const text = await guardMcpStream(breakingStream([progress, "event: mess"]), 7).text();
    const messages = text
      .split("\n")
      .filter((line) => line.startsWith("data: {"))
      .map((line) => JSON.parse(line.slice(6)) as { id?: number; result?: { isError: boolean } });
    expect(messages.at(-1)).toMatchObject({ id: 7, result: { isError: true } });
  });

  test("adds nothing when the response already went out", async () => {
    const response = 'event: message\ndata: {"result":{"content":[]},"jsonrpc":"2.0","id":7}\n\n';
    const text = await guardMcpStream(breakingStream([progress, response]), 7).text();
    expect(text).toBe(progress + response);
  });
});

interface ParsedEvent {
  event: string;
  tool_use_id?: string;
  result?: { is_error: boolean; content: Array<{ text: string }> };
  meta?: { error_kind?: string };
}

/** Events of an SSE or NDJSON answer (lines that are not whole JSON objects are skipped). */
function parseEvents(text: string): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.startsWith("data: ") ? raw.slice(6) : raw;
    if (!line.startsWith("{")) continue;
    try {
      events.push(JSON.parse(line) as ParsedEvent);
    } catch {
      // a line cut by the break
    }
  }
  return events;
}

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { timeoutMessage } from "../../src/sandbox/bash/run-failure.ts";
import { sandboxEdge, type ToolResultJson } from "./sandbox-helpers.ts";

const sb = sandboxEdge();

const bashBlock = (id: string, command: string) => ({ type: "tool_use", id, name: "bash", input: { command } });

/** Reads an SSE or NDJSON body event by event, as the edge sends them. */
async function* events(res: Response, format: "sse" | "ndjson"): AsyncGenerator<Record<string, unknown>> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const separator = format === "sse" ? "\n\n" : "\n";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += value;
    let at = buffered.indexOf(separator);
    while (at >= 0) {
      const frame = buffered.slice(0, at);
      buffered = buffered.slice(at + separator.length);
      const json = format === "sse" ? /^data: (.*)$/m.exec(frame)?.[1] : frame;
      if (json) yield JSON.parse(json) as Record<string, unknown>;
      at = buffered.indexOf(separator);
    }
  }
}

describe("tool calls in three formats", () => {
  test("JSON: content is the tool_result blocks for Claude, meta beside them (exit code stated)", async () => {
    const sandbox = await sb.create();
    const res = await sb.toolCalls(sandbox, [bashBlock("a", "echo out; echo err >&2"), bashBlock("b", "exit 7")]);
    const body = (await res.json()) as ToolResultJson;
    expect(body.content[0]).toEqual({
      type: "tool_result",
      tool_use_id: "a",
      content: [{ type: "text", text: "out\nerr\n" }],
      is_error: false,
    });
    expect(body.content[1]!.content[0]!.text).toContain("exit code: 7");
    expect(body.content[1]!.is_error).toBe(false);
    expect(body.meta[1]).toMatchObject({ tool_use_id: "b", exit_code: 7 });
  });

  test("SSE: events arrive as they are produced, not when the request ends", async () => {
    const sandbox = await sb.create();
    // The second call waits (bounded) for a file that only this test creates, after it has seen the
    // first call's result arrive: a buffered answer could never release it.
    const res = await sb.toolCalls(
      sandbox,
      [
        bashBlock("first", "for i in 1 2 3; do echo $i; sleep 0.2; done"),
        bashBlock(
          "second",
          "for i in $(seq 1 150); do [ -f /workspace/go ] && break; sleep 0.1; done; [ -f /workspace/go ] && echo released || echo gave up",
        ),
      ],
      "text/event-stream",
    );
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const seen: Record<string, unknown>[] = [];
    for await (const event of events(res, "sse")) {
      seen.push(event);
      if (event.event === "result" && event.tool_use_id === "first") {
        const put = await sb.call(`/v1/sandboxes/${sandbox.id}/files/workspace/go`, sandbox.token, {
          method: "PUT",
          body: "",
        });
        expect(put.status).toBe(201);
      }
    }
    const kinds = seen.filter((e) => e.event !== "heartbeat").map((e) => `${e.event}:${e.tool_use_id ?? ""}`);
    expect(kinds).toEqual([
      "started:first",
      "output:first",
      "result:first",
      "started:second",
      "output:second",
      "result:second",
      "done:",
    ]);
    const first = seen.find((e) => e.event === "output" && e.tool_use_id === "first")!;
    expect(first).toMatchObject({ stream: "stdout", text: "1\n2\n3\n" });
    const second = seen.find((e) => e.event === "result" && e.tool_use_id === "second") as {
      result: ToolResultJson["content"][0];
    };
    expect(second.result.content[0]!.text).toBe("released\n");
  });

  test("NDJSON: the same events, one per line", async () => {
    const sandbox = await sb.create();
    const res = await sb.toolCalls(sandbox, bashBlock("n", "echo hi"), "application/x-ndjson");
    const kinds: string[] = [];
    for await (const event of events(res, "ndjson")) if (event.event !== "heartbeat") kinds.push(String(event.event));
    expect(kinds).toEqual(["started", "output", "result", "done"]);
  });
});

describe("bad input", () => {
  test("a body over the limit is 413; not tool_use blocks is 400; neither runs anything", async () => {
    const sandbox = await sb.create();
    const big = await sb.toolCalls(sandbox, bashBlock("big", `echo ${"x".repeat(1024 * 1024)} > big.txt`));
    expect(big.status).toBe(413);
    const wrong = await sb.toolCalls(sandbox, [{ role: "user", content: "hi" }]);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain("tool_use");
    expect((await sb.bash(sandbox, "ls /workspace")).text).toBe("(no output)");
  });

  test("an unknown tool among valid ones: is_error listing the tools, the others still run", async () => {
    const sandbox = await sb.create();
    const res = await sb.toolCalls(sandbox, [
      bashBlock("a", "echo before"),
      { type: "tool_use", id: "u", name: "python", input: { code: "1" } },
      bashBlock("b", "echo after"),
    ]);
    const body = (await res.json()) as ToolResultJson;
    expect(body.content.map((c) => c.is_error)).toEqual([false, true, false]);
    expect(body.content[1]!.content[0]!.text).toContain("known tools: bash");
    expect(body.content[2]!.content[0]!.text).toBe("after\n");
  });
});

describe("runaway code is stopped and the sandbox keeps working", () => {
  test("bash `while true; do :; done` ends in an is_error result; the very next call works", async () => {
    const sandbox = await sb.create();
    // The timeout or the work budgeted for it stops the loop, whichever notices first: one wording.
    const stuck = await sb.run(sandbox, "bash", { command: "while true; do :; done", timeout_ms: 1_000 });
    expect(stuck.isError).toBe(true);
    expect(stuck.meta.error_kind).toBe("timeout");
    expect(stuck.text).toBe(timeoutMessage(1_000));
    expect((await sb.bash(sandbox, "echo alive")).text).toBe("alive\n");
  }, 120_000);

  test("run_code with an endless loop is stopped by its guard; the very next call works", async () => {
    const sandbox = await sb.create();
    const stuck = await sb.run(sandbox, "run_code", {
      code: "while (true) {}",
      language: "javascript",
      timeout_ms: 1_000,
    });
    expect(stuck.isError).toBe(true);
    expect(stuck.text).toMatch(/timed out/i);
    const next = await sb.run(sandbox, "run_code", { code: "return 6 * 7", language: "javascript" });
    expect(next.isError).toBe(false);
    expect(next.text).toContain("42");
    expect((await sb.bash(sandbox, "echo alive")).text).toBe("alive\n");
  });

  test("run_code fetch with no allow list is refused and reported", async () => {
    const sandbox = await sb.create();
    const res = await sb.run(sandbox, "run_code", {
      code: "try { await fetch('https://example.com/'); return 'fetched' } catch (e) { return String(e) }",
      language: "javascript",
    });
    expect(res.text).not.toContain('"fetched"');
    expect(res.text).toContain("network refused (not in the sandbox's network.allow list): https://example.com/");
  });

  test("run_code fetch reaches hosts on the sandbox's network.allow list, and only those", async () => {
    const server = createServer((_req, res) => res.end("hello from an allowed host"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const sandbox = await sb.create({ network: { allow: ["127.0.0.1"] } });
      const allowed = await sb.run(sandbox, "run_code", {
        code: `return await (await fetch("http://127.0.0.1:${port}/")).text()`,
        language: "javascript",
      });
      expect(allowed.text).toContain("hello from an allowed host");
      const refused = await sb.run(sandbox, "run_code", {
        code: `try { await fetch("http://localhost:${port}/"); return "fetched" } catch (e) { return String(e) }`,
        language: "javascript",
      });
      expect(refused.text).not.toContain('"fetched"');
      expect(refused.text).toContain("network refused");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("run_code reads and writes the sandbox's files", async () => {
    const sandbox = await sb.create({ files: { "in.txt": "from the sandbox" } });
    const res = await sb.run(sandbox, "run_code", {
      code: "const t = await files.readFile('in.txt'); await files.writeFile('out.txt', t.toUpperCase()); return t.length",
      language: "javascript",
    });
    expect(res.isError).toBe(false);
    expect((await sb.bash(sandbox, "cat out.txt")).text).toBe("FROM THE SANDBOX");
  });
});

describe("eviction", () => {
  test("the Durable Object evicted between calls keeps files and the shell session", async () => {
    const sandbox = await sb.create();
    await sb.bash(
      sandbox,
      "mkdir -p app && cd app && echo data > f.txt && export MODE=prod && hello() { echo hello $1; }",
    );
    await sb.edge().evict("SANDBOX", sandbox.id);
    const after = await sb.bash(sandbox, 'pwd; cat f.txt; echo "$MODE"; hello world');
    expect(after.text).toBe("/workspace/app\ndata\nprod\nhello world\n");
  });
});

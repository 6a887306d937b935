import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BashSession } from "../../src/sandbox/bash/bash-session.ts";
import { MemoryShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { collectToolCallsJson } from "../../src/sandbox/tool-calls/json.ts";
import { runToolCalls } from "../../src/sandbox/tool-calls/run-tool-calls.ts";
import { toSseStream } from "../../src/sandbox/tool-calls/sse.ts";
import type { ToolUseBlock } from "../../src/sandbox/tool-calls/tool-use-block.ts";
import { FakeBash } from "../helpers/tool-context.ts";

// The tools and the tool-call pipeline inside workerd, over the real SQLite filesystem of a Sandbox
// Durable Object and the real shell session.

const use = (id: string, name: string, input: Record<string, unknown>): ToolUseBlock => ({
  type: "tool_use",
  id,
  name,
  input,
});

function inSandbox<T>(name: string, fn: (fs: SqliteFs) => Promise<T>): Promise<T> {
  const stub = env.SANDBOX.get(env.SANDBOX.idFromName(name));
  return runInDurableObject(stub, async (_instance, state) =>
    fn(new SqliteFs(state.storage, { quotaBytes: 64 * 1024 })),
  );
}

describe("file tools over SqliteFs", () => {
  it("write, read, edit, glob, grep and the text editor work together", async () => {
    const answer = await inSandbox("tools-roundtrip", async (fs) => {
      await fs.mkdir("/workspace", { recursive: true });
      const ctx = { fs, bash: new FakeBash() };
      return collectToolCallsJson(
        runToolCalls(
          [
            use("w", "write", { file_path: "src/app.ts", content: "const a = 1;\nconst b = 2;\n" }),
            use("e", "edit", { file_path: "/workspace/src/app.ts", old_string: "b = 2", new_string: "b = 3" }),
            use("c", "str_replace_based_edit_tool", {
              command: "insert",
              path: "src/app.ts",
              insert_line: 0,
              insert_text: "// app",
            }),
            use("r", "read", { file_path: "src/app.ts" }),
            use("g", "glob", { pattern: "**/*.ts" }),
            use("s", "grep", { pattern: "const \\w = 3" }),
            use("v", "str_replace_based_edit_tool", { command: "view", path: "/workspace" }),
          ],
          ctx,
        ),
      );
    });
    expect(answer.content.map((block) => block.is_error)).toEqual([false, false, false, false, false, false, false]);
    const texts = answer.content.map((block) => block.content[0]?.text);
    expect(texts[0]).toBe("File created successfully at: /workspace/src/app.ts (26 bytes).");
    expect(texts[3]).toBe("     1\t// app\n     2\tconst a = 1;\n     3\tconst b = 3;");
    expect(texts[4]).toBe("/workspace/src/app.ts");
    expect(texts[5]).toBe("/workspace/src/app.ts:3:const b = 3;");
    expect(texts[6]).toBe(
      "Here's the files and directories up to 2 levels deep in /workspace, excluding hidden items:\n" +
        "/workspace\n/workspace/src\n/workspace/src/app.ts",
    );
  });

  it("keeps paths inside the sandbox and reports the quota as an is_error result", async () => {
    const answer = await inSandbox("tools-limits", async (fs) => {
      await fs.mkdir("/workspace", { recursive: true });
      const ctx = { fs, bash: new FakeBash() };
      const result = await collectToolCallsJson(
        runToolCalls(
          [
            use("up", "write", { file_path: "../../../../escape.txt", content: "x" }),
            use("big", "write", { file_path: "big.bin", content: "z".repeat(100 * 1024) }),
            use("missing", "read", { file_path: "big.bin" }),
          ],
          ctx,
        ),
      );
      return { result, root: await fs.readdir("/"), usage: fs.usage() };
    });
    expect(answer.result.content[0]?.content[0]?.text).toBe("File created successfully at: /escape.txt (1 bytes).");
    // `..` stops at the sandbox's own root.
    expect(answer.root).toContain("escape.txt");
    expect(answer.result.content[1]?.is_error).toBe(true);
    expect(answer.result.content[1]?.content[0]?.text).toMatch(
      /^ENOSPC: sandbox storage quota .*write '\/workspace\/big.bin'$/,
    );
    expect(answer.result.meta[1]?.error_kind).toBe("quota_exceeded");
    expect(answer.result.content[2]?.content[0]?.text).toBe("file not found: /workspace/big.bin");
  });

  it("runs bash through the real session: output events, exit codes, state between calls", async () => {
    const answer = await inSandbox("tools-bash", async (fs) => {
      await fs.mkdir("/workspace", { recursive: true });
      const ctx = { fs, bash: new BashSession(fs, new MemoryShellStateStore()) };
      const events = [];
      for await (const event of runToolCalls(
        [
          use("mk", "bash", { command: "mkdir -p sub && cd sub && export GREETING=hi && echo made" }),
          use("pwd", "bash", { command: 'pwd; echo "$GREETING"; echo oops >&2; exit 3' }),
          use("see", "read", { file_path: "sub" }),
          use("after", "bash", { command: "echo still here" }),
        ],
        ctx,
      )) {
        events.push(event);
      }
      return events;
    });
    const results = answer.flatMap((e) => (e.event === "result" ? [e] : []));
    const text = (id: string) => results.find((r) => r.tool_use_id === id)?.result.content[0]?.text;
    expect(text("mk")).toBe("made\n");
    expect(text("pwd")).toBe("/workspace/sub\nhi\noops\nexit code: 3");
    expect(results.find((r) => r.tool_use_id === "pwd")?.meta).toMatchObject({ exit_code: 3 });
    expect(results.find((r) => r.tool_use_id === "pwd")?.result.is_error).toBe(false);
    expect(answer.filter((e) => e.event === "output" && e.tool_use_id === "pwd")).toEqual([
      { event: "output", tool_use_id: "pwd", stream: "stdout", text: "/workspace/sub\nhi\n" },
      { event: "output", tool_use_id: "pwd", stream: "stderr", text: "oops\n" },
    ]);
    expect(text("see")).toBe("/workspace/sub is a directory, not a file");
    expect(text("after")).toBe("still here\n");
  });

  it("streams SSE from inside the object", async () => {
    const text = await inSandbox("tools-sse", async (fs) => {
      await fs.mkdir("/workspace", { recursive: true });
      const ctx = { fs, bash: new FakeBash() };
      return new Response(toSseStream(runToolCalls([use("t", "bash", { command: "echo hi" })], ctx))).text();
    });
    expect(
      text
        .split("\n\n")
        .filter(Boolean)
        .map((m) => m.split("\n")[0]),
    ).toEqual(["event: started", "event: result", "event: done"]);
  });
});

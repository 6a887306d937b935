import { describe, expect, test } from "vitest";
import { runnerHarness } from "./session-runner-helpers.ts";

const h = runnerHarness();
/** A read's text without the sandbox tool's line numbers (the toolset's format comes with it later). */
const plain = (text: string) => text.replace(/^ *\d+\t/gm, "").trimEnd();

describe("a session runner runs the toolset in the session's sandbox", () => {
  test("every toolset tool, answered once each; invalid input is_error; unowned and custom tools get nothing; terminated stops the work and keeps the sandbox", async () => {
    const r = await h.claim();
    const [write, read, edit, glob, grep, bash, invalid, unowned, custom] = r.standIn.pushToolUses(r.sessionId, [
      { name: "write", input: { file_path: "notes/a.txt", content: "hello\nworld\n" } },
      { name: "read", input: { file_path: "notes/a.txt" } },
      { name: "edit", input: { file_path: "notes/a.txt", old_string: "world", new_string: "tether" } },
      { name: "glob", input: { pattern: "**/*.txt" } },
      { name: "grep", input: { pattern: "tether" } },
      { name: "bash", input: { command: "cat notes/a.txt | wc -l; echo made-by-bash > notes/b.txt" } },
      { name: "read", input: { view_range: [1, 2] } },
      { name: "web_fetch", input: { url: "https://example.com" } },
      { name: "lookup", input: { q: "x" }, custom: true },
    ]);
    // The texts are the sandbox tools' own; what matters here is that each call ran and was answered.
    expect(await r.textOf(write!)).toMatchObject({ text: expect.stringContaining("notes/a.txt"), isError: false });
    const readBack = await r.textOf(read!);
    expect({ ...readBack, text: plain(readBack.text) }).toEqual({ text: "hello\nworld", isError: false });
    expect(await r.textOf(edit!)).toMatchObject({ text: expect.stringContaining("notes/a.txt"), isError: false });
    expect((await r.textOf(glob!)).text).toContain("notes/a.txt");
    expect((await r.textOf(grep!)).text).toMatch(/notes\/a\.txt:2:.*tether/);
    expect((await r.textOf(bash!)).text.trim()).toBe("2");
    const bad = await r.textOf(invalid!);
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain("file_path");
    // The sandbox holds what the tools did.
    expect(plain((await h.sandboxTool(r.sandboxId, "read", { file_path: "notes/a.txt" })).text)).toBe("hello\ntether");
    expect(plain((await h.sandboxTool(r.sandboxId, "read", { file_path: "notes/b.txt" })).text)).toBe("made-by-bash");

    expect(r.results()).toHaveLength(7);
    expect(r.standIn.pending(r.sessionId).sort()).toEqual([unowned!.id, custom!.id].sort());
    const details = await r.details();
    expect(details.toolCallsAnswered).toBe(7);
    expect(details.toolCalls.map((c) => c.outcome)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok", "error", null]);

    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    const ended = await r.details();
    expect(ended.endReason).toBe("terminated");
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    expect(await h.sandboxExists(r.sandboxId)).toBe(true);
    expect(r.results()).toHaveLength(7);
    // Nothing secret in what operators see.
    const shown = JSON.stringify(ended);
    expect(shown).not.toContain(r.environment.key);
    expect(shown).not.toContain("sk-ant-req-");
  });
});

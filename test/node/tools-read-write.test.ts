import { describe, expect, it } from "vitest";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import { byteLength } from "../../src/sandbox/tools/truncate.ts";
import { testToolContext } from "../helpers/tool-context.ts";

describe("read", () => {
  it("numbers lines like cat -n and resolves relative paths against /workspace", async () => {
    const ctx = testToolContext({ "/workspace/a.txt": "alpha\nbeta\n\tgamma\n" });
    const out = await callTool("read", { file_path: "a.txt" }, ctx);
    expect(out).toEqual({ text: "     1\talpha\n     2\tbeta\n     3\t\tgamma", truncated: false });
  });

  it("reads a view_range, with -1 meaning the end of the file", async () => {
    const ctx = testToolContext({ "/workspace/a.txt": "1\n2\n3\n4\n5" });
    expect((await callTool("read", { file_path: "/workspace/a.txt", view_range: [2, 3] }, ctx)).text).toBe(
      "     2\t2\n     3\t3",
    );
    expect((await callTool("read", { file_path: "a.txt", view_range: [4, -1] }, ctx)).text).toBe(
      "     4\t4\n     5\t5",
    );
  });

  it("refuses view_range outside the file with Claude's wording", async () => {
    const ctx = testToolContext({ "/workspace/a.txt": "1\n2\n3\n" });
    const cases: [number[], string][] = [
      [
        [0, 2],
        "Invalid `view_range`: [0, 2]. Its first element `0` should be within the range of lines of the file: [1, 3]",
      ],
      [
        [4, -1],
        "Invalid `view_range`: [4, -1]. Its first element `4` should be within the range of lines of the file: [1, 3]",
      ],
      [
        [1, 9],
        "Invalid `view_range`: [1, 9]. Its second element `9` should be smaller than the number of lines in the file: `3`",
      ],
      [[3, 2], "Invalid `view_range`: [3, 2]. Its second element `2` should be larger or equal than its first `3`"],
    ];
    for (const [range, message] of cases) {
      expect(await callTool("read", { file_path: "a.txt", view_range: range }, ctx)).toEqual({
        text: message,
        isError: true,
        errorKind: "bad_request",
      });
    }
  });

  it("names the field when the input is invalid", async () => {
    const ctx = testToolContext();
    expect(await callTool("read", {}, ctx)).toEqual({
      text: "invalid input for read: file_path: required",
      isError: true,
      errorKind: "invalid_input",
    });
    expect((await callTool("read", { file_path: 7 }, ctx)).text).toBe(
      "invalid input for read: file_path: expected string, received number",
    );
    expect((await callTool("read", { file_path: "" }, ctx)).text).toBe(
      "invalid input for read: file_path: must not be empty",
    );
    expect((await callTool("read", { file_path: "a", view_range: [1] }, ctx)).text).toBe(
      "invalid input for read: view_range: must be [start_line, end_line]",
    );
    expect((await callTool("read", { file_path: "a", view_range: [1.5, 2] }, ctx)).text).toBe(
      "invalid input for read: view_range[0]: expected int, received number",
    );
    expect((await callTool("read", null, ctx)).text).toBe(
      "invalid input for read: (input): expected object, received null",
    );
  });

  it("reports a missing file and a directory clearly", async () => {
    const ctx = testToolContext({ "/workspace/dir/x": "x" });
    expect(await callTool("read", { file_path: "nope.txt" }, ctx)).toEqual({
      text: "file not found: /workspace/nope.txt",
      isError: true,
      errorKind: "not_found",
    });
    expect(await callTool("read", { file_path: "dir" }, ctx)).toEqual({
      text: "/workspace/dir is a directory, not a file",
      isError: true,
      errorKind: "bad_request",
    });
  });

  it("says so for empty and binary files instead of numbering them", async () => {
    const ctx = testToolContext({ "/workspace/empty": "", "/workspace/bin": "ab\u0000cd" });
    expect((await callTool("read", { file_path: "empty" }, ctx)).text).toBe("(/workspace/empty is empty)");
    expect((await callTool("read", { file_path: "bin" }, ctx)).text).toBe(
      "/workspace/bin is a binary file; inspect it with bash (e.g. `od -c`)",
    );
  });

  it("caps output at 256 KiB with a marker that says how to read on", async () => {
    const line = "x".repeat(1000);
    const content = `${Array.from({ length: 400 }, () => line).join("\n")}\n`;
    const ctx = testToolContext({ "/workspace/big.txt": content });
    const out = await callTool("read", { file_path: "big.txt" }, ctx);
    expect(out.truncated).toBe(true);
    const lines = out.text.split("\n");
    // Each numbered line is 1,007 bytes plus a newline: 260 fit under 256 KiB.
    expect(lines.at(-1)).toBe(
      "[output truncated at 256 KiB: showing lines 1-260 of 400; use view_range [261, -1] to read on]",
    );
    expect(lines.length).toBe(261);
    expect(new TextEncoder().encode(lines.slice(0, -1).join("\n")).byteLength).toBeLessThanOrEqual(256 * 1024);
    const rest = await callTool("read", { file_path: "big.txt", view_range: [261, -1] }, ctx);
    expect(rest.truncated).toBe(false);
    expect(rest.text.split("\n")).toHaveLength(140);
  });

  it("cuts a single line longer than the cap", async () => {
    const ctx = testToolContext({ "/workspace/one.txt": "y".repeat(300 * 1024) });
    const out = await callTool("read", { file_path: "one.txt" }, ctx);
    expect(out.truncated).toBe(true);
    expect(out.text.startsWith("     1\tyyy")).toBe(true);
    expect(out.text.endsWith("[line 1 alone is longer than 256 KiB]")).toBe(true);
  });

  it("counts sizes in UTF-8 bytes exactly as they are sent, multi-byte text and lone surrogates included", () => {
    const samples = ["", "ascii", "é", "€ and ✓", "😀 pair", "a\ud800b", "\udc00 low first", "ends high \ud83d"];
    for (const text of samples) expect(byteLength(text)).toBe(new TextEncoder().encode(text).byteLength);
  });
});

describe("write", () => {
  it("creates a file with its parent directories, then overwrites it", async () => {
    const ctx = testToolContext();
    expect(await callTool("write", { file_path: "deep/er/n.txt", content: "héllo" }, ctx)).toEqual({
      text: "File created successfully at: /workspace/deep/er/n.txt (6 bytes).",
    });
    expect(await ctx.fs.readFile("/workspace/deep/er/n.txt")).toBe("héllo");
    expect(await callTool("write", { file_path: "/workspace/deep/er/n.txt", content: "" }, ctx)).toEqual({
      text: "The file /workspace/deep/er/n.txt has been overwritten (0 bytes).",
    });
    expect(await ctx.fs.readFile("/workspace/deep/er/n.txt")).toBe("");
  });

  it("refuses a directory and invalid input, leaving the tree unchanged", async () => {
    const ctx = testToolContext({ "/workspace/d/keep": "k" });
    expect(await callTool("write", { file_path: "d", content: "x" }, ctx)).toEqual({
      text: "/workspace/d is a directory, not a file",
      isError: true,
      errorKind: "bad_request",
    });
    expect((await callTool("write", { file_path: "f.txt" }, ctx)).text).toBe(
      "invalid input for write: content: required",
    );
    expect((await callTool("write", { file_path: "f.txt", content: 5 }, ctx)).text).toBe(
      "invalid input for write: content: expected string, received number",
    );
    expect((await callTool("write", { content: "x" }, ctx)).text).toBe("invalid input for write: file_path: required");
    expect(await ctx.fs.readFile("/workspace/d/keep")).toBe("k");
    expect(await ctx.fs.exists("/workspace/f.txt")).toBe(false);
  });

  it("refuses to write under a file", async () => {
    const ctx = testToolContext({ "/workspace/plain": "p" });
    expect(await callTool("write", { file_path: "plain/x.txt", content: "x" }, ctx)).toEqual({
      text: "cannot write /workspace/plain/x.txt: /workspace/plain is a file",
      isError: true,
      errorKind: "bad_request",
    });
    expect(await ctx.fs.readFile("/workspace/plain")).toBe("p");
  });
});

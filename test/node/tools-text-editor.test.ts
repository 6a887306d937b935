import { describe, expect, it } from "vitest";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import { testToolContext } from "../helpers/tool-context.ts";

const T = "str_replace_based_edit_tool";

describe("str_replace_based_edit_tool view", () => {
  it("shows a file with line numbers and a view_range", async () => {
    const ctx = testToolContext({ "/workspace/a.py": "one\ntwo\nthree\n" });
    expect(await callTool(T, { command: "view", path: "/workspace/a.py" }, ctx)).toEqual({
      text: "Here's the result of running `cat -n` on /workspace/a.py:\n     1\tone\n     2\ttwo\n     3\tthree",
      truncated: false,
    });
    expect((await callTool(T, { command: "view", path: "a.py", view_range: [2, -1] }, ctx)).text).toBe(
      "Here's the result of running `cat -n` on /workspace/a.py:\n     2\ttwo\n     3\tthree",
    );
    expect(await callTool(T, { command: "view", path: "a.py", view_range: [5, 6] }, ctx)).toEqual({
      text: "Invalid `view_range`: [5, 6]. Its first element `5` should be within the range of lines of the file: [1, 3]",
      isError: true,
      errorKind: "bad_request",
    });
  });

  it("cuts the view at max_characters", async () => {
    const ctx = testToolContext({ "/workspace/a.py": "one\ntwo\nthree\n" });
    expect((await callTool(T, { command: "view", path: "a.py", max_characters: 10 }, ctx)).text).toBe(
      "Here's the result of running `cat -n` on /workspace/a.py:\n     1\tone\n[output truncated at max_characters=10; use view_range to see more]",
    );
  });

  it("lists a directory two levels deep without hidden items", async () => {
    const ctx = testToolContext({
      "/workspace/src/a.ts": "",
      "/workspace/src/lib/deep/z.ts": "",
      "/workspace/.git/config": "",
      "/workspace/src/.env": "",
      "/workspace/README.md": "",
    });
    expect((await callTool(T, { command: "view", path: "/workspace" }, ctx)).text).toBe(
      "Here's the files and directories up to 2 levels deep in /workspace, excluding hidden items:\n" +
        "/workspace\n/workspace/README.md\n/workspace/src\n/workspace/src/a.ts\n/workspace/src/lib",
    );
    expect((await callTool(T, { command: "view", path: "/workspace", view_range: [1, 2] }, ctx)).text).toBe(
      "The `view_range` parameter is not allowed when `path` points to a directory.",
    );
  });

  it("reports a missing path", async () => {
    const ctx = testToolContext();
    expect(await callTool(T, { command: "view", path: "/nope" }, ctx)).toEqual({
      text: "The path /nope does not exist. Please provide a valid path.",
      isError: true,
      errorKind: "not_found",
    });
  });
});

describe("str_replace_based_edit_tool create", () => {
  it("creates a file with parent directories and refuses to overwrite", async () => {
    const ctx = testToolContext();
    expect(await callTool(T, { command: "create", path: "/workspace/n/new.txt", file_text: "hi\n" }, ctx)).toEqual({
      text: "File created successfully at: /workspace/n/new.txt",
    });
    expect(await ctx.fs.readFile("/workspace/n/new.txt")).toBe("hi\n");
    expect(await callTool(T, { command: "create", path: "/workspace/n/new.txt", file_text: "other" }, ctx)).toEqual({
      text: "File already exists at: /workspace/n/new.txt. Cannot overwrite files using command `create`.",
      isError: true,
      errorKind: "bad_request",
    });
    expect(await ctx.fs.readFile("/workspace/n/new.txt")).toBe("hi\n");
    expect((await callTool(T, { command: "create", path: "x.txt" }, ctx)).text).toBe(
      "invalid input for str_replace_based_edit_tool: file_text: required",
    );
  });
});

describe("str_replace_based_edit_tool str_replace", () => {
  const FILE = "a = 1\nb = 2\na = 1\nc = 3\n";

  it("replaces a unique occurrence and shows the snippet", async () => {
    const ctx = testToolContext({ "/workspace/v.py": FILE });
    expect(
      (await callTool(T, { command: "str_replace", path: "v.py", old_str: "c = 3", new_str: "c = 4" }, ctx)).text,
    ).toBe(
      "The file /workspace/v.py has been edited. Here's the result of running `cat -n` on a snippet of /workspace/v.py:\n" +
        "     1\ta = 1\n     2\tb = 2\n     3\ta = 1\n     4\tc = 4\n" +
        "Review the changes and make sure they are as expected. Edit the file again if necessary.",
    );
    expect(await ctx.fs.readFile("/workspace/v.py")).toBe("a = 1\nb = 2\na = 1\nc = 4\n");
  });

  it("deletes old_str when new_str is omitted", async () => {
    const ctx = testToolContext({ "/workspace/v.py": FILE });
    await callTool(T, { command: "str_replace", path: "v.py", old_str: "b = 2\n" }, ctx);
    expect(await ctx.fs.readFile("/workspace/v.py")).toBe("a = 1\na = 1\nc = 3\n");
  });

  it("requires a unique, present old_str and leaves the file alone otherwise", async () => {
    const ctx = testToolContext({ "/workspace/v.py": FILE, "/workspace/d/x": "" });
    expect(await callTool(T, { command: "str_replace", path: "v.py", old_str: "a = 1", new_str: "z" }, ctx)).toEqual({
      text: "No replacement was performed. Multiple occurrences of old_str `a = 1` in lines [1, 3]. Please ensure it is unique",
      isError: true,
      errorKind: "bad_request",
    });
    expect(
      (await callTool(T, { command: "str_replace", path: "v.py", old_str: "q = 0", new_str: "z" }, ctx)).text,
    ).toBe("No replacement was performed, old_str `q = 0` did not appear verbatim in /workspace/v.py.");
    expect((await callTool(T, { command: "str_replace", path: "v.py", old_str: "" }, ctx)).text).toBe(
      "invalid input for str_replace_based_edit_tool: old_str: must not be empty",
    );
    expect((await callTool(T, { command: "str_replace", path: "d", old_str: "x" }, ctx)).text).toBe(
      "The path /workspace/d is a directory and only the `view` command can be used on directories",
    );
    expect((await callTool(T, { command: "str_replace", path: "gone.py", old_str: "x" }, ctx)).text).toBe(
      "The path /workspace/gone.py does not exist. Please provide a valid path.",
    );
    expect(await ctx.fs.readFile("/workspace/v.py")).toBe(FILE);
  });
});

describe("str_replace_based_edit_tool insert", () => {
  it("inserts after insert_line, 0 meaning the top", async () => {
    const ctx = testToolContext({ "/workspace/i.txt": "one\ntwo\n" });
    await callTool(T, { command: "insert", path: "i.txt", insert_line: 0, insert_text: "zero\n" }, ctx);
    expect(await ctx.fs.readFile("/workspace/i.txt")).toBe("zero\none\ntwo\n");
    const out = await callTool(T, { command: "insert", path: "i.txt", insert_line: 3, insert_text: "three" }, ctx);
    expect(await ctx.fs.readFile("/workspace/i.txt")).toBe("zero\none\ntwo\nthree\n");
    expect(out.text).toBe(
      "The file /workspace/i.txt has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n" +
        "     1\tzero\n     2\tone\n     3\ttwo\n     4\tthree\n" +
        "Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
    );
  });

  it("accepts new_str as the inserted text (older tool versions)", async () => {
    const ctx = testToolContext({ "/workspace/i.txt": "a\nc" });
    await callTool(T, { command: "insert", path: "i.txt", insert_line: 1, new_str: "b" }, ctx);
    expect(await ctx.fs.readFile("/workspace/i.txt")).toBe("a\nb\nc");
  });

  it("refuses an insert_line outside the file and missing fields", async () => {
    const ctx = testToolContext({ "/workspace/i.txt": "one\ntwo\n" });
    expect(await callTool(T, { command: "insert", path: "i.txt", insert_line: 3, insert_text: "x" }, ctx)).toEqual({
      text: "Invalid `insert_line` parameter: 3. It should be within the range of lines of the file: [0, 2]",
      isError: true,
      errorKind: "bad_request",
    });
    expect((await callTool(T, { command: "insert", path: "i.txt", insert_line: -1, insert_text: "x" }, ctx)).text).toBe(
      "Invalid `insert_line` parameter: -1. It should be within the range of lines of the file: [0, 2]",
    );
    expect((await callTool(T, { command: "insert", path: "i.txt", insert_text: "x" }, ctx)).text).toBe(
      "invalid input for str_replace_based_edit_tool: insert_line: required",
    );
    expect((await callTool(T, { command: "insert", path: "i.txt", insert_line: 1 }, ctx)).text).toBe(
      "invalid input for str_replace_based_edit_tool: insert_text: required",
    );
    expect(await ctx.fs.readFile("/workspace/i.txt")).toBe("one\ntwo\n");
  });

  it("names an unknown command", async () => {
    const ctx = testToolContext();
    expect((await callTool(T, { command: "undo_edit", path: "/x" }, ctx)).text).toBe(
      'invalid input for str_replace_based_edit_tool: command: expected one of "view"|"create"|"str_replace"|"insert"',
    );
  });
});

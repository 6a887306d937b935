import { describe, expect, it } from "vitest";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import { testToolContext } from "../helpers/tool-context.ts";

const SOURCE = "function a() {\n  return 1;\n}\nfunction b() {\n  return 1;\n}\n";

describe("edit", () => {
  it("replaces a unique match and shows a numbered snippet", async () => {
    const ctx = testToolContext({ "/workspace/f.js": SOURCE });
    const out = await callTool(
      "edit",
      { file_path: "f.js", old_string: "function b() {\n  return 1;", new_string: "function b() {\n  return 2;" },
      ctx,
    );
    expect(out).toEqual({
      text:
        "The file /workspace/f.js has been edited (1 replacement). Snippet of the result:\n" +
        "     1\tfunction a() {\n     2\t  return 1;\n     3\t}\n     4\tfunction b() {\n     5\t  return 2;\n" +
        "     6\t}",
    });
    expect(await ctx.fs.readFile("/workspace/f.js")).toBe(SOURCE.replace("b() {\n  return 1", "b() {\n  return 2"));
  });

  it("fails when old_string is not unique, saying how many and where; nothing changes", async () => {
    const ctx = testToolContext({ "/workspace/f.js": SOURCE });
    expect(
      await callTool("edit", { file_path: "f.js", old_string: "return 1;", new_string: "return 3;" }, ctx),
    ).toEqual({
      text:
        "old_string is not unique in /workspace/f.js: found 2 matches (lines 2, 5); include more surrounding " +
        "context to make it unique, or set replace_all to true",
      isError: true,
      errorKind: "bad_request",
    });
    expect(await ctx.fs.readFile("/workspace/f.js")).toBe(SOURCE);
  });

  it("replaces every match with replace_all, literally (no $ patterns)", async () => {
    const ctx = testToolContext({ "/workspace/f.js": SOURCE });
    const out = await callTool(
      "edit",
      { file_path: "f.js", old_string: "return 1;", new_string: "return $&$1;", replace_all: true },
      ctx,
    );
    expect(out.text.startsWith("The file /workspace/f.js has been edited (2 replacements).")).toBe(true);
    expect(await ctx.fs.readFile("/workspace/f.js")).toBe(SOURCE.split("return 1;").join("return $&$1;"));
  });

  it("fails clearly when old_string is missing, empty or unchanged", async () => {
    const ctx = testToolContext({ "/workspace/f.js": SOURCE });
    expect(await callTool("edit", { file_path: "f.js", old_string: "return 9;", new_string: "x" }, ctx)).toEqual({
      text: "old_string not found in /workspace/f.js; it must match the file exactly, including whitespace and indentation",
      isError: true,
      errorKind: "bad_request",
    });
    expect((await callTool("edit", { file_path: "f.js", old_string: "", new_string: "x" }, ctx)).text).toBe(
      "old_string must not be empty; use write to create or replace a whole file",
    );
    expect((await callTool("edit", { file_path: "f.js", old_string: "a", new_string: "a" }, ctx)).text).toBe(
      "old_string and new_string are identical; nothing to change",
    );
    expect(await ctx.fs.readFile("/workspace/f.js")).toBe(SOURCE);
  });

  it("reports missing files, directories and invalid input", async () => {
    const ctx = testToolContext({ "/workspace/d/x": "" });
    expect(await callTool("edit", { file_path: "no.js", old_string: "a", new_string: "b" }, ctx)).toEqual({
      text: "file not found: /workspace/no.js",
      isError: true,
      errorKind: "not_found",
    });
    expect((await callTool("edit", { file_path: "d", old_string: "a", new_string: "b" }, ctx)).text).toBe(
      "/workspace/d is a directory, not a file",
    );
    expect((await callTool("edit", { file_path: "f.js", old_string: "a" }, ctx)).text).toBe(
      "invalid input for edit: new_string: required",
    );
    expect(
      (await callTool("edit", { file_path: "f.js", old_string: "a", new_string: "b", replace_all: "yes" }, ctx)).text,
    ).toBe("invalid input for edit: replace_all: expected boolean, received string");
    expect((await callTool("edit", {}, ctx)).text).toBe(
      "invalid input for edit: file_path: required; old_string: required; new_string: required",
    );
  });
});

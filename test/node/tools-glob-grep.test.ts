import { describe, expect, it } from "vitest";
import { GREP_MAX_BYTES } from "../../src/sandbox/tools/grep.ts";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import { testToolContext } from "../helpers/tool-context.ts";

const TREE = {
  "/workspace/src/a.ts": "export const a = 1;\n",
  "/workspace/src/b.js": "const b = 2;\n",
  "/workspace/src/lib/c.ts": "// TODO: c\nexport const c = 3;\n",
  "/workspace/.github/ci.ts": "ci\n",
  "/workspace/README.md": "# readme\nTODO: docs\n",
  "/other/z.ts": "z\n",
};

describe("glob", () => {
  it("matches recursively, sorted, as absolute paths; dotfiles included", async () => {
    const ctx = testToolContext(TREE);
    expect((await callTool("glob", { pattern: "**/*.ts" }, ctx)).text).toBe(
      "/workspace/.github/ci.ts\n/workspace/src/a.ts\n/workspace/src/lib/c.ts",
    );
  });

  it("matches one level for patterns without a globstar, relative to path", async () => {
    const ctx = testToolContext(TREE);
    expect((await callTool("glob", { pattern: "*.ts", path: "src" }, ctx)).text).toBe("/workspace/src/a.ts");
    expect((await callTool("glob", { pattern: "src/*.{ts,js}" }, ctx)).text).toBe(
      "/workspace/src/a.ts\n/workspace/src/b.js",
    );
  });

  it("takes absolute patterns, literal paths and patterns leading out of path", async () => {
    const ctx = testToolContext(TREE);
    expect((await callTool("glob", { pattern: "/other/*.ts" }, ctx)).text).toBe("/other/z.ts");
    expect((await callTool("glob", { pattern: "src/a.ts" }, ctx)).text).toBe("/workspace/src/a.ts");
    expect((await callTool("glob", { pattern: "../other/**" }, ctx)).text).toBe("/other/z.ts");
  });

  it("says when nothing matched", async () => {
    const ctx = testToolContext(TREE);
    expect(await callTool("glob", { pattern: "**/*.rs" }, ctx)).toEqual({
      text: "No files found matching **/*.rs in /workspace",
    });
    expect((await callTool("glob", { pattern: "missing/**/*.ts" }, ctx)).text).toBe(
      "No files found matching missing/**/*.ts in /workspace",
    );
  });

  it("returns at most 200 results and says it truncated", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`/workspace/many/f${String(i).padStart(3, "0")}.txt`] = "";
    const ctx = testToolContext(files);
    const out = await callTool("glob", { pattern: "many/*.txt" }, ctx);
    const lines = out.text.split("\n");
    expect(out.truncated).toBe(true);
    expect(lines).toHaveLength(201);
    expect(lines[0]).toBe("/workspace/many/f000.txt");
    expect(lines[199]).toBe("/workspace/many/f199.txt");
    expect(lines[200]).toBe("[showing the first 200 of 250 matches; narrow the pattern or path]");
  });

  it("keeps only the first 200 in sort order however many match, whatever order the walk finds them in", async () => {
    const files: Record<string, string> = {};
    // Reverse-numbered names across directories whose walk order is not path order ("d/x" after "d0").
    for (let i = 0; i < 1500; i++)
      files[`/workspace/big/d${i % 3 === 0 ? "" : i % 3}/f${String(1499 - i).padStart(4, "0")}.txt`] = "";
    const ctx = testToolContext(files);
    const out = await callTool("glob", { pattern: "big/**/*.txt" }, ctx);
    const lines = out.text.split("\n");
    const expected = Object.keys(files).sort().slice(0, 200);
    expect(lines.slice(0, 200)).toEqual(expected);
    expect(lines[200]).toBe("[showing the first 200 of 1500 matches; narrow the pattern or path]");
  });

  it("refuses a missing or non-directory path and invalid input", async () => {
    const ctx = testToolContext(TREE);
    expect(await callTool("glob", { pattern: "*", path: "/nowhere" }, ctx)).toEqual({
      text: "directory not found: /nowhere",
      isError: true,
      errorKind: "not_found",
    });
    expect((await callTool("glob", { pattern: "*", path: "README.md" }, ctx)).text).toBe(
      "/workspace/README.md is not a directory",
    );
    expect((await callTool("glob", {}, ctx)).text).toBe("invalid input for glob: pattern: required");
    expect((await callTool("glob", { pattern: ["*.ts"] }, ctx)).text).toBe(
      "invalid input for glob: pattern: expected string, received array",
    );
  });
});

describe("grep", () => {
  it("prints path:line:text for matching lines across the tree", async () => {
    const ctx = testToolContext(TREE);
    expect(await callTool("grep", { pattern: "TODO" }, ctx)).toEqual({
      text: "/workspace/README.md:2:TODO: docs\n/workspace/src/lib/c.ts:1:// TODO: c",
    });
  });

  it("searches a single file or directory and takes regular expressions", async () => {
    const ctx = testToolContext(TREE);
    expect((await callTool("grep", { pattern: "const [ab] =", path: "src" }, ctx)).text).toBe(
      "/workspace/src/a.ts:1:export const a = 1;\n/workspace/src/b.js:1:const b = 2;",
    );
    expect((await callTool("grep", { pattern: "^export", path: "/workspace/src/lib/c.ts" }, ctx)).text).toBe(
      "/workspace/src/lib/c.ts:2:export const c = 3;",
    );
  });

  it("skips binary files and says when nothing matched", async () => {
    const ctx = testToolContext({ "/workspace/bin": "needle\u0000", "/workspace/t.txt": "hay\n" });
    expect(await callTool("grep", { pattern: "needle" }, ctx)).toEqual({
      text: "No matches for /needle/ in /workspace",
    });
  });

  it("caps output at 100 KiB with a marker", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`/workspace/f${i}.txt`] = `${"match this line of text\n".repeat(400)}`;
    const ctx = testToolContext(files);
    const out = await callTool("grep", { pattern: "match" }, ctx);
    expect(out.truncated).toBe(true);
    const lines = out.text.split("\n");
    expect(lines.at(-1)).toBe("[output truncated at 100 KiB; more matches not shown, narrow the pattern or path]");
    const kept = lines.slice(0, -1).join("\n");
    expect(new TextEncoder().encode(kept).byteLength).toBeLessThanOrEqual(GREP_MAX_BYTES);
    expect(new TextEncoder().encode(kept).byteLength).toBeGreaterThan(GREP_MAX_BYTES - 100);
  });

  it("cuts very long matching lines", async () => {
    const ctx = testToolContext({ "/workspace/min.js": `${"x".repeat(5000)}needle` });
    expect((await callTool("grep", { pattern: "x" }, ctx)).text).toBe(
      `/workspace/min.js:1:${"x".repeat(2000)}… [line cut at 2000 characters]`,
    );
  });

  it("refuses an invalid regular expression, a missing path and invalid input", async () => {
    const ctx = testToolContext(TREE);
    expect(await callTool("grep", { pattern: "(unclosed" }, ctx)).toEqual({
      text: "invalid input for grep: pattern: invalid regular expression: missing closing ): `(unclosed`",
      isError: true,
      errorKind: "invalid_input",
    });
    expect(await callTool("grep", { pattern: "x", path: "nope" }, ctx)).toEqual({
      text: "path not found: /workspace/nope",
      isError: true,
      errorKind: "not_found",
    });
    expect((await callTool("grep", { path: "src" }, ctx)).text).toBe("invalid input for grep: pattern: required");
  });
});

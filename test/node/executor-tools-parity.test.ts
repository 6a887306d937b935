/**
 * The edge's file tools run on an executor's real workspace (WorkspaceFs) and answer exactly as at
 * the edge: each case runs the same calls over just-bash's InMemoryFs (how the edge's tools are
 * tested) and over a temporary real workspace, and compares every outcome and the files left.
 *
 * Intentional differences (not covered by these cases): paths outside /workspace exist at the edge
 * (its own /tmp, /etc) but are refused on an executor; mtimes and modes come from the real disk.
 */
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceFs } from "../../src/gateway/executor/workspace-fs.ts";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import type { ToolOutcome } from "../../src/sandbox/tools/tool.ts";
import { FakeBash, testToolContext } from "../helpers/tool-context.ts";

type Call = [tool: string, input: Record<string, unknown>];

interface Case {
  name: string;
  files: Record<string, string>;
  calls: Call[];
}

const SOURCE = "function a() {\n  return 1;\n}\n\nfunction b() {\n  return 1;\n}\n";
const many = Object.fromEntries(
  Array.from({ length: 230 }, (_, i) => [`many/f${String(i).padStart(3, "0")}.txt`, "x\n"]),
);

const CASES: Case[] = [
  {
    name: "read: whole, ranges, errors",
    files: { "a.txt": "alpha\nbeta\n\tgamma\n", "d/x.txt": "x" },
    calls: [
      ["read", { file_path: "a.txt" }],
      ["read", { file_path: "/workspace/a.txt", view_range: [2, 3] }],
      ["read", { file_path: "a.txt", view_range: [0, 2] }],
      ["read", { file_path: "a.txt", view_range: [1, 9] }],
      ["read", { file_path: "missing.txt" }],
      ["read", { file_path: "d" }],
      ["read", {}],
    ],
  },
  {
    name: "write: new, overwrite, parents, onto a directory, onto a file's child",
    files: { "a.txt": "old", "d/x.txt": "x" },
    calls: [
      ["write", { file_path: "new.txt", content: "hello\n" }],
      ["write", { file_path: "a.txt", content: "replaced" }],
      ["write", { file_path: "deep/er/b.txt", content: "b" }],
      ["write", { file_path: "d", content: "x" }],
      ["write", { file_path: "a.txt/c.txt", content: "x" }],
      ["read", { file_path: "deep/er/b.txt" }],
    ],
  },
  {
    name: "edit: unique, ambiguous, replace_all, missing, unchanged",
    files: { "f.js": SOURCE, "d/x": "x" },
    calls: [
      ["edit", { file_path: "f.js", old_string: "return 1;", new_string: "return 2;" }],
      [
        "edit",
        { file_path: "f.js", old_string: "function a() {\n  return 1;", new_string: "function a() {\n  return 3;" },
      ],
      ["edit", { file_path: "f.js", old_string: "}", new_string: "};", replace_all: true }],
      ["edit", { file_path: "f.js", old_string: "nowhere", new_string: "x" }],
      ["edit", { file_path: "f.js", old_string: "x", new_string: "x" }],
      ["edit", { file_path: "missing.js", old_string: "a", new_string: "b" }],
      ["edit", { file_path: "d", old_string: "a", new_string: "b" }],
    ],
  },
  {
    name: "glob: recursive, one level, none, truncated, bad path",
    files: { "src/a.ts": "", "src/lib/b.ts": "", "src/c.js": "", ".hidden.ts": "", "README.md": "", ...many },
    calls: [
      ["glob", { pattern: "**/*.ts" }],
      ["glob", { pattern: "*.ts", path: "src" }],
      ["glob", { pattern: "src/*.{ts,js}" }],
      ["glob", { pattern: "**/*.rs" }],
      ["glob", { pattern: "many/*.txt" }],
      ["glob", { pattern: "*", path: "/workspace/nowhere" }],
      ["glob", { pattern: "*", path: "README.md" }],
    ],
  },
  {
    name: "grep: tree, file, regex, binary, no match, bad regex, missing path",
    files: {
      "src/a.ts": "const a = 1; // TODO\n",
      "src/lib/c.ts": "export const c = 3;\nconst b = 2;\n",
      "bin.dat": "needle\u0000binary",
      "long.txt": `${"x".repeat(3000)}\n`,
    },
    calls: [
      ["grep", { pattern: "TODO" }],
      ["grep", { pattern: "const [ab] =", path: "src" }],
      ["grep", { pattern: "^export", path: "/workspace/src/lib/c.ts" }],
      ["grep", { pattern: "needle" }],
      ["grep", { pattern: "x", path: "long.txt" }],
      ["grep", { pattern: "(unclosed" }],
      ["grep", { pattern: "x", path: "nope" }],
    ],
  },
  {
    name: "str_replace_based_edit_tool: view, create, str_replace, insert, errors",
    files: { "a.txt": "one\ntwo\nthree\n", "dir/sub/f.txt": "f", "dir/.hidden": "h" },
    calls: [
      ["str_replace_based_edit_tool", { command: "view", path: "/workspace/a.txt" }],
      ["str_replace_based_edit_tool", { command: "view", path: "/workspace/a.txt", view_range: [2, -1] }],
      ["str_replace_based_edit_tool", { command: "view", path: "/workspace/dir" }],
      ["str_replace_based_edit_tool", { command: "view", path: "/workspace/missing" }],
      ["str_replace_based_edit_tool", { command: "create", path: "/workspace/new/n.txt", file_text: "n\n" }],
      ["str_replace_based_edit_tool", { command: "create", path: "/workspace/a.txt", file_text: "x" }],
      [
        "str_replace_based_edit_tool",
        { command: "str_replace", path: "/workspace/a.txt", old_str: "two", new_str: "2" },
      ],
      [
        "str_replace_based_edit_tool",
        { command: "str_replace", path: "/workspace/a.txt", old_str: "zzz", new_str: "2" },
      ],
      [
        "str_replace_based_edit_tool",
        { command: "insert", path: "/workspace/a.txt", insert_line: 0, insert_text: "zero" },
      ],
      [
        "str_replace_based_edit_tool",
        { command: "insert", path: "/workspace/a.txt", insert_line: 99, insert_text: "x" },
      ],
      ["str_replace_based_edit_tool", { command: "undo_edit", path: "/workspace/a.txt" }],
    ],
  },
];

let base: string;

beforeAll(async () => {
  base = await fsp.realpath(await fsp.mkdtemp(`${tmpdir()}/tether-parity-`));
});

afterAll(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

describe("the edge's file tools on a real workspace answer as at the edge", () => {
  CASES.forEach((testCase, index) => {
    it(testCase.name, async () => {
      const edge = testToolContext(
        Object.fromEntries(Object.entries(testCase.files).map(([path, text]) => [`/workspace/${path}`, text])),
      );
      const root = `${base}/case${index}`;
      await fsp.mkdir(root);
      for (const [path, text] of Object.entries(testCase.files)) {
        await fsp.mkdir(`${root}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
        await fsp.writeFile(`${root}/${path}`, text);
      }
      const real = { fs: new WorkspaceFs(root), bash: new FakeBash() };
      for (const [tool, input] of testCase.calls) {
        const atEdge: ToolOutcome = await callTool(tool, input, edge);
        const onExecutor: ToolOutcome = await callTool(tool, input, real);
        expect(onExecutor, `${tool} ${JSON.stringify(input)}`).toEqual(atEdge);
      }
      expect(await realTree(root)).toEqual(await edgeTree(edge.fs, "/workspace"));
    });
  });
});

/** Every file below `root` as relative path → text. */
async function realTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fsp.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = `${entry.parentPath}/${entry.name}`;
    out[path.slice(root.length + 1)] = await fsp.readFile(path, "utf8");
  }
  return out;
}

async function edgeTree(fs: ReturnType<typeof testToolContext>["fs"], dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await fs.readdir(dir)) {
    const path = `${dir}/${name}`;
    const stat = await fs.stat(path);
    if (stat.isDirectory) {
      for (const [below, text] of Object.entries(await edgeTree(fs, path))) out[`${name}/${below}`] = text;
    } else out[name] = await fs.readFile(path);
  }
  return out;
}

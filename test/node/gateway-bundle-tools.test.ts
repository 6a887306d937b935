/**
 * The gateway's executors run the sandbox tools (src/sandbox/tools), which import just-bash. Its
 * Node build imports optional native compressors dynamically, which a one-file bundle cannot hold:
 * the gateway's build (scripts/build-gateway.ts) leaves them out. Here an entry importing the tool
 * registry is built exactly as the gateway is, copied away from node_modules and run: the tools
 * work on real files from the bundle alone.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { bundleForNode, OPTIONAL_NATIVE_PACKAGES } from "../../scripts/build-gateway.ts";
import { ROOT } from "../helpers/edge.ts";
import { NODE } from "../helpers/processes.ts";

const away = mkdtempSync(join(tmpdir(), "tether-tools-bundle-"));
afterAll(() => rmSync(away, { recursive: true, force: true }));

/** Writes, reads back and globs through the tool registry over just-bash's real-disk filesystem. */
const ENTRY = `
import { ReadWriteFs } from "just-bash";
import { callTool } from "./src/sandbox/tools/registry.ts";

const fs = new ReadWriteFs({ root: process.argv[2] });
const bash = { run: async () => ({ stdout: "", stderr: "no shell here", exitCode: 1, truncated: false }) };
const ctx = { fs, bash };
const outcomes = [
  await callTool("write", { file_path: "/workspace/notes/a.txt", content: "first\\nsecond\\n" }, ctx),
  await callTool("read", { file_path: "/workspace/notes/a.txt" }, ctx),
  await callTool("glob", { pattern: "**/*.txt", path: "/workspace" }, ctx),
  await callTool("read", { file_path: "/workspace/missing.txt" }, ctx),
];
console.log(JSON.stringify(outcomes));
`;

test("the sandbox tools, bundled as the gateway is, run from the bundle alone on real files", async () => {
  const outfile = join(away, "tools.mjs");
  const result = await bundleForNode(
    { contents: ENTRY, resolveDir: ROOT, sourcefile: "tools-entry.ts", loader: "ts" },
    outfile,
  );
  expect(result.errors).toEqual([]);
  const bundle = readFileSync(outfile, "utf8");
  // just-bash is inside; the optional native packages are left as imports (and absent here).
  expect(bundle).toContain("ReadWriteFs");
  for (const name of OPTIONAL_NATIVE_PACKAGES) expect(bundle).toContain(`"${name}"`);
  expect(existsSync(join(away, "node_modules"))).toBe(false);

  const root = join(away, "sandbox");
  mkdirSync(join(root, "workspace"), { recursive: true });
  const run = spawnSync(NODE, [outfile, root], { cwd: away, encoding: "utf8", timeout: 60_000 });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const [write, read, glob, missing] = JSON.parse(run.stdout) as { text: string; isError?: boolean }[];
  expect(write?.isError).toBeFalsy();
  expect(readFileSync(join(root, "workspace/notes/a.txt"), "utf8")).toBe("first\nsecond\n");
  expect(read).toEqual({ text: "     1\tfirst\n     2\tsecond", truncated: false });
  expect(glob?.text).toContain("/workspace/notes/a.txt");
  expect(missing?.isError).toBe(true);
}, 120_000);

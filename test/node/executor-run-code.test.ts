import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InMemoryFs } from "just-bash";
import { afterEach, describe, expect, test } from "vitest";
import { createRunCode } from "../../src/gateway/executor/process/run-code.ts";
import { openShell } from "../../src/gateway/executor/process/shell-session.ts";
import { runCodeTool } from "../../src/sandbox/tools/run-code.ts";
import { type ExecutorDir, executorDir } from "../helpers/executor-processes.ts";

// run_code on the executor: a Node process per call under the permission model, with the edge's
// conventions (result of the last expression or `return`, errors as text, the same tool wording).

let dirs: ExecutorDir[] = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function sandbox(isolate: "none" | "bwrap" = "none") {
  const dir = executorDir({ isolate });
  dirs.push(dir);
  const workspace = dir.workspace("sb");
  return {
    workspace,
    config: dir.config,
    runCode: createRunCode({ workspace, config: dir.config, sandboxEnv: { GREETING: "hey" } }),
  };
}

const js = (code: string, timeout_ms?: number) => ({
  code,
  language: "javascript" as const,
  ...(timeout_ms ? { timeout_ms } : {}),
});

describe.each(["none", "bwrap"] as const)("executor run_code (isolate %s)", (isolate) => {
  test("console output, the last expression's value, and the sandbox's env", async () => {
    const { runCode } = sandbox(isolate);
    const result = await runCode(
      js(
        "console.log('out'); console.error('err'); const x = await Promise.resolve(2); ({ x, g: process.env.GREETING })",
      ),
    );
    expect(result).toMatchObject({
      stdout: "out\n",
      stderr: "err\n",
      result: { x: 2, g: "hey" },
      timedOut: false,
      networkRefused: [],
    });
  });

  test("thrown errors, syntax errors and refused imports are errors, not crashes", async () => {
    const { runCode } = sandbox(isolate);
    expect((await runCode(js("throw new RangeError('too far')"))).error).toBe("RangeError: too far");
    expect((await runCode(js("let = ;"))).error).toMatch(/^SyntaxError: /);
    expect((await runCode(js("import fs from 'node:fs'"))).error).toMatch(/^SyntaxError: .*import/i);
    expect((await runCode(js("return undefined"))).result).toBeUndefined();
  });

  test("files and the filesystem reach the workspace only", async () => {
    const { runCode, workspace } = sandbox(isolate);
    const wrote = await runCode(
      js("await files.writeFile('sub.txt', 'data'); return [await files.readFile('sub.txt'), await files.listFiles()]"),
    );
    expect(wrote.result).toEqual(["data", ["sub.txt"]]);
    expect(readFileSync(join(workspace, "sub.txt"), "utf8")).toBe("data");
    const denied = await runCode(js("require('node:fs').writeFileSync('/tmp/tether-run-code-escape', 'x')"));
    expect(denied.error).toMatch(/ERR_ACCESS_DENIED|restricted|read-only/i);
    const spawnDenied = await runCode(js("require('node:child_process').execSync('true')"));
    expect(spawnDenied.error).toMatch(/restricted|ERR_ACCESS_DENIED/i);
  });

  test("a timeout kills the process and is reported as the edge does", async () => {
    const { runCode } = sandbox(isolate);
    const result = await runCode(js("console.log('started'); while (true) {}", 1_000));
    expect(result).toMatchObject({ stdout: "started\n", timedOut: true, error: "run_code timed out after 1000 ms" });
  });

  test("output is capped at 100 KiB", async () => {
    const { runCode } = sandbox(isolate);
    const result = await runCode(js("for (let i = 0; i < 20000; i++) console.log('x'.repeat(100)); 1"));
    expect(result.stdout).toMatch(/\[output truncated: .* total, showing first 100 KiB\]\n$/);
    expect(result.result).toBe(1);
  });

  test("the run_code tool reports through it", async () => {
    const { runCode } = sandbox(isolate);
    const ctx = {
      fs: new InMemoryFs(),
      bash: openShell({ workspace: "/nonexistent", config: dirs[0]!.config, sandboxEnv: {} }),
      runCode,
    };
    const ok = await runCodeTool.call({ code: "console.log('hi'); 40 + 2" }, ctx);
    expect(ok).toMatchObject({ exitCode: 0 });
    expect(ok.text).toMatch(/hi\n[\s\S]*result: 42/);
    const failed = await runCodeTool.call({ code: "throw new Error('no')" }, ctx);
    expect(failed).toMatchObject({ exitCode: 1 });
    expect(failed.text).toMatch(/error: Error: no/);
  });
});

test("a node binary that does not exist is reported", async () => {
  const dir = executorDir();
  dirs.push(dir);
  const runCode = createRunCode({
    workspace: dir.workspace("sb"),
    config: dir.config,
    sandboxEnv: {},
    nodePath: "/nonexistent/node",
  });
  const result = await runCode(js("1"));
  expect(result.timedOut).toBe(false);
  expect(result.error).toMatch(/without a result/);
});

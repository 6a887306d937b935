// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${…} is expansion.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InMemoryFs } from "just-bash";
import { afterEach, describe, expect, test } from "vitest";
import type { ProcessOptions } from "../../src/gateway/executor/process/sandbox-launch.ts";
import { openShell, type ShellSession } from "../../src/gateway/executor/process/shell-session.ts";
import { bashTool } from "../../src/sandbox/tools/bash.ts";
import type { OutputStream } from "../../src/sandbox/tools/context.ts";
import { type ExecutorDir, executorDir } from "../helpers/executor-processes.ts";

// The executor's shell: one real bash per sandbox, persistent across calls, streamed, capped.

let dirs: ExecutorDir[] = [];
let shells: ShellSession[] = [];

afterEach(async () => {
  await Promise.all(shells.map((shell) => shell.close()));
  for (const dir of dirs) dir.remove();
  dirs = [];
  shells = [];
  delete process.env.TETHER_TEST_SECRET;
});

function open(overrides: Partial<ProcessOptions["config"]> = {}, sandboxEnv: Record<string, string> = {}) {
  const dir = executorDir(overrides);
  dirs.push(dir);
  const workspace = dir.workspace("sb");
  const shell = openShell({ workspace, config: dir.config, sandboxEnv });
  shells.push(shell);
  return { shell, workspace };
}

function recorder() {
  const chunks: { stream: OutputStream; text: string }[] = [];
  return { chunks, listener: (stream: OutputStream, text: string) => chunks.push({ stream, text }) };
}

describe("executor shell", () => {
  test("cd, variables, functions, aliases, options, traps and jobs carry from call to call", async () => {
    const { shell, workspace } = open();
    await shell.run({ command: 'mkdir -p sub && cd sub && x=42 && greet() { echo "hi $1"; }' });
    await shell.run({ command: "shopt -s expand_aliases; alias ll='echo aliased'; set -o pipefail" });
    await shell.run({ command: "trap 'echo got usr1' USR1; sleep 0.2 & job=$!" });
    const result = await shell.run({
      command: 'pwd; echo "$x"; greet you; ll; false | true; echo "pipe $?"; kill -USR1 $$; wait "$job"; echo "job $?"',
    });
    expect(result).toEqual({
      stdout: `${workspace}/sub\n42\nhi you\naliased\npipe 1\ngot usr1\njob 0\n`,
      stderr: "",
      exitCode: 0,
      truncated: false,
    });
  });

  test("the environment is the passed-through names, the sandbox's own and HOME, nothing else", async () => {
    process.env.TETHER_TEST_SECRET = "do-not-leak";
    const { shell, workspace } = open({ env: ["PATH"] }, { API_URL: "http://example.test" });
    const result = await shell.run({
      command: 'echo "$HOME|$API_URL|${TETHER_TEST_SECRET-unset}|$PWD"; [ -n "$PATH" ]',
    });
    expect(result.stdout).toBe(`${workspace}|http://example.test|unset|${workspace}\n`);
    expect(result.exitCode).toBe(0);
  });

  test("exit statuses are the command's, and $? carries into the next call", async () => {
    const { shell } = open();
    expect((await shell.run({ command: "(exit 7)" })).exitCode).toBe(7);
    expect((await shell.run({ command: 'echo "$?"' })).stdout).toBe("7\n");
  });

  test("commands reading stdin get end of file, and the next command still runs", async () => {
    const { shell } = open();
    const read = await shell.run({ command: 'cat; read -r line; echo "[${line-}] $?"' });
    expect(read.stdout).toBe("[] 1\n");
    expect((await shell.run({ command: "echo next" })).stdout).toBe("next\n");
  });

  test("no command text or output can break the framing", async () => {
    const { shell } = open();
    const tricky = [
      "printf 'no newline'",
      "echo 'single \" double \\\\ back'\necho second line",
      "cat <<'EOF'\n$HOME `x` \\x41\nEOF",
      "printf '\\036tether-end-00\\036\\n'",
      "set | grep -c 'tether-end-[0-9a-f]\\{32\\}'",
      "echo é漢字🙂",
      "echo $'tab\\there'",
    ];
    const outputs = [];
    for (const command of tricky) outputs.push((await shell.run({ command })).stdout);
    expect(outputs).toEqual([
      "no newline",
      'single " double \\\\ back\nsecond line\n',
      "$HOME `x` \\x41\n",
      "\u001etether-end-00\u001e\n",
      "0\n",
      "é漢字🙂\n",
      "tab\there\n",
    ]);
  });

  test("commands that redirect or close the shell's own fds do not break it", async () => {
    const { shell, workspace } = open();
    const closed = await shell.run({ command: "exec 3>&- 4>&- 5>&- 6>&-; echo still" });
    expect(closed.stdout).toBe("still\n");
    expect((await shell.run({ command: "exec >log.txt 2>&1; echo logged" })).stdout).toBe("");
    // Like a terminal session: the redirection persists, so later output goes to the log too.
    expect((await shell.run({ command: "echo later; echo visible >&2" })).stdout).toBe("");
    expect(readFileSync(join(workspace, "log.txt"), "utf8")).toBe("logged\nlater\nvisible\n");
  });

  test("output streams as it is produced, one callback per write", async () => {
    const { shell } = open();
    const { chunks, listener } = recorder();
    const result = await shell.run({ command: "for i in 1 2 3; do echo $i; sleep 0.3; done; echo err >&2" }, listener);
    expect(chunks).toEqual([
      { stream: "stdout", text: "1\n" },
      { stream: "stdout", text: "2\n" },
      { stream: "stdout", text: "3\n" },
      { stream: "stderr", text: "err\n" },
    ]);
    expect(result.stdout).toBe("1\n2\n3\n");
  });

  test("UTF-8 split across writes comes out whole; binary output does no harm", async () => {
    const { shell } = open();
    const split = await shell.run({ command: "printf '\\xc3'; sleep 0.2; printf '\\xa9\\n'" });
    expect(split.stdout).toBe("é\n");
    const binary = await shell.run({ command: "head -c 4096 /dev/urandom; printf '\\xff\\xfe\\x00end'" });
    expect(binary.stdout.endsWith("\u0000end")).toBe(true);
    expect((await shell.run({ command: "echo still fine" })).stdout).toBe("still fine\n");
  });

  test("200 MiB of output keeps 100 KiB, marks the cut, and costs little memory", async () => {
    const { shell } = open();
    let streamed = 0;
    const before = process.memoryUsage().rss;
    const result = await shell.run({ command: "yes | head -c 209715200; echo done >&2" }, (_stream, text) => {
      streamed += text.length;
    });
    const growth = process.memoryUsage().rss - before;
    expect(result.truncated).toBe(true);
    expect(result.stdout).toMatch(/\n\[output truncated: 200(\.0)? MiB total, showing first 100 KiB\]\n$/);
    expect(Buffer.byteLength(result.stdout)).toBeLessThan(100 * 1024 + 100);
    expect(streamed).toBeLessThan(100 * 1024 + 200);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    expect((await shell.run({ command: "echo after" })).stdout).toBe("after\n");
  });

  test("restart starts a fresh shell in the workspace; a restart alone runs nothing", async () => {
    const { shell, workspace } = open();
    await shell.run({ command: "cd /; y=1" });
    expect(await shell.run({ command: "", restart: true })).toEqual({
      stdout: "",
      stderr: "",
      exitCode: 0,
      truncated: false,
    });
    expect((await shell.run({ command: 'pwd; echo "${y-unset}"' })).stdout).toBe(`${workspace}\nunset\n`);
    await shell.run({ command: "y=2" });
    expect((await shell.run({ command: 'echo "${y-unset}"', restart: true })).stdout).toBe("unset\n");
  });

  test("an aborted signal stops the command like a timeout; a shell that exits is replaced", async () => {
    const { shell } = open();
    const controller = new AbortController();
    const pending = shell.run({ command: "echo before; sleep 100", signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const stopped = await pending;
    expect(stopped.failure).toEqual({
      kind: "timeout",
      message: expect.stringMatching(/^timeout: the command was stopped at its 120 s timeout/),
    });
    expect(stopped.stdout).toBe("before\n");
    expect(await shell.run({ command: "echo bye; exit 3" })).toEqual({
      stdout: "bye\n",
      stderr: "",
      exitCode: 3,
      truncated: false,
    });
    expect((await shell.run({ command: "kill -9 $$" })).exitCode).toBe(137);
    expect((await shell.run({ command: "echo fresh" })).stdout).toBe("fresh\n");
  });

  test("set -e persists and a failing command ends the shell; a shell that dies between calls is replaced", async () => {
    const { shell } = open();
    await shell.run({ command: "set -e; kept=1" });
    expect(await shell.run({ command: "false; echo unreachable" })).toMatchObject({ stdout: "", exitCode: 1 });
    expect((await shell.run({ command: 'echo "${kept-fresh}"' })).stdout).toBe("fresh\n");
    await shell.run({ command: "(sleep 0.1; kill -9 $$) >/dev/null 2>&1 &" });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await shell.run({ command: "echo alive" })).toMatchObject({ stdout: "alive\n", exitCode: 0 });
  });

  test("calls run one at a time, in order", async () => {
    const { shell } = open();
    const order: string[] = [];
    const first = shell.run({ command: "sleep 0.3; echo a" }).then((r) => order.push(r.stdout));
    const second = shell.run({ command: "echo b" }).then((r) => order.push(r.stdout));
    await Promise.all([first, second]);
    expect(order).toEqual(["a\n", "b\n"]);
  });

  test("xtrace shows the user's commands only, and persists", async () => {
    const { shell } = open();
    // Commands run inside `eval`, one level deep, so bash marks traces `++` as it does in any eval.
    expect((await shell.run({ command: "set -x; echo hi" })).stderr).toBe("++ echo hi\n");
    expect((await shell.run({ command: "echo yo" })).stderr).toBe("++ echo yo\n");
  });

  test("a shell that cannot start is reported, not hung", async () => {
    const { shell } = open({ shell: "/nonexistent/bash" });
    const result = await shell.run({ command: "echo hi" });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/nonexistent\/bash/);
  });

  test("the bash tool reports through it as at the edge", async () => {
    const { shell } = open();
    const ctx = { fs: new InMemoryFs(), bash: shell };
    const failed = await bashTool.call({ command: "echo out; exit 2" }, ctx);
    expect(failed).toMatchObject({ exitCode: 2 });
    expect(failed.text).toMatch(/out\n[\s\S]*exit code: 2/);
    const timedOut = await bashTool.call({ command: "sleep 5", timeout_ms: 200 }, ctx);
    expect(timedOut).toMatchObject({ isError: true, errorKind: "timeout" });
  });
});

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { BashSession, type BashSessionOptions } from "../../src/sandbox/bash/bash-session.ts";
import { timeoutMessage } from "../../src/sandbox/bash/run-failure.ts";
import { MemoryShellStateStore, SqlShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs, type SqliteFsOptions } from "../../src/sandbox/fs/sqlite-fs.ts";

// BashSession over SqliteFs inside a Durable Object, state kept in its SQLite storage.
function freshStub(): DurableObjectStub {
  return env.REGISTRY.get(env.REGISTRY.idFromName(`bash-test-${crypto.randomUUID()}`));
}

interface Sandbox {
  fs: SqliteFs;
  bash: BashSession;
}

function inSandbox<T>(
  stub: DurableObjectStub,
  run: (sandbox: Sandbox) => Promise<T>,
  options: { fs?: SqliteFsOptions; bash?: BashSessionOptions } = {},
): Promise<T> {
  return runInDurableObject(stub, (_instance, state) => {
    const fs = new SqliteFs(state.storage, options.fs);
    return run({ fs, bash: new BashSession(fs, new SqlShellStateStore(state.storage.sql), options.bash) });
  });
}

const sandbox = <T>(
  run: (sandbox: Sandbox) => Promise<T>,
  options?: { fs?: SqliteFsOptions; bash?: BashSessionOptions },
) => inSandbox(freshStub(), run, options);

describe("shell state", () => {
  test("cd, exported variables and functions persist across calls, and across eviction", async () => {
    const stub = freshStub();
    await inSandbox(stub, async ({ bash }) => {
      expect((await bash.run({ command: "pwd" })).stdout).toBe("/workspace\n");
      const setup = await bash.run({
        command: [
          "mkdir -p proj/src && cd proj/src",
          "export GREETING='hello there' LEVEL=3",
          "LOCAL_ONLY=1",
          "greet() {\n  cat <<EOF\n  $GREETING, $1 (in $(pwd))\nEOF\n}",
        ].join("\n"),
      });
      expect(setup).toEqual({ stdout: "", stderr: "", exitCode: 0, truncated: false });
      const next = await bash.run({ command: 'pwd; echo "$GREETING|$LEVEL|$LOCAL_ONLY"; greet you' });
      expect(next.stdout).toBe("/workspace/proj/src\nhello there|3|\n  hello there, you (in /workspace/proj/src)\n");
    });
    await evictDurableObject(stub);
    await inSandbox(stub, async ({ bash }) => {
      const after = await bash.run({ command: "pwd; echo $GREETING; greet again; cd -; printenv LEVEL" });
      expect(after.stdout).toBe(
        "/workspace/proj/src\nhello there\n  hello there, again (in /workspace/proj/src)\n/workspace\n3\n",
      );
      expect(bash.describe()).toEqual({
        cwd: "/workspace",
        variableNames: ["GREETING", "HOME", "LEVEL", "OLDPWD", "PATH", "PWD"],
        functionNames: ["greet"],
      });
    });
  });

  test("restart resets the working directory, variables and functions", () =>
    sandbox(async ({ bash }) => {
      await bash.run({ command: "cd /tmp; export X=1; f() { echo f; }" });
      const restarted = await bash.run({
        command: 'pwd; echo "[$X]"; type f >/dev/null 2>&1 || echo no-f',
        restart: true,
      });
      expect(restarted.stdout).toBe("/workspace\n[]\nno-f\n");
      await bash.run({ command: "cd /tmp" });
      expect(await bash.run({ command: "", restart: true })).toMatchObject({ stdout: "", exitCode: 0 });
      expect(bash.describe().cwd).toBe("/workspace");
    }));

  test("functions defined inside functions, redefined and unset are tracked", () =>
    sandbox(async ({ bash }) => {
      await bash.run({ command: "outer() { inner() { echo inner-$1; }; }; outer; v() { echo v1; }; v() { echo v2; }" });
      expect((await bash.run({ command: "inner x; v" })).stdout).toBe("inner-x\nv2\n");
      await bash.run({ command: "unset -f inner" });
      expect(bash.describe().functionNames).toEqual(["outer", "v"]);
      const evald = await bash.run({ command: "eval 'e() { :; }'" });
      expect(evald.stderr).toContain("function e came from eval or source and is not kept");
    }));

  test("command substitutions inside arithmetic see kept functions, variables and the directory", () =>
    sandbox(async ({ bash }) => {
      await bash.run({
        command: "mkdir -p /w/sub && cd /w/sub && printf '1\\n2\\n' > two.txt && count() { wc -l < \"$1\"; }",
      });
      // Defined in an earlier call (carried as a syntax tree), used inside $(( )) and (( )).
      const run = await bash.run({
        command: 'f=two.txt; n=0; (( n += $(count "$f") )); echo $(( n * $(count $f) )) $(( $(pwd | wc -c) ))',
      });
      expect(run).toMatchObject({ stdout: "4 7\n", stderr: "", exitCode: 0 }); // "/w/sub\n" is 7 bytes
      // Nothing of the machinery is left behind in the shell's variables or functions.
      expect(bash.describe().functionNames).toEqual(["count"]);
      expect((await bash.run({ command: "set | grep -c __tether_ || true" })).stdout).toBe("0\n");
    }));

  test("an EXIT trap runs once when its call ends (also after exit) and not in the next call", () =>
    sandbox(async ({ bash }) => {
      const first = await bash.run({ command: "trap 'echo cleanup $?' EXIT; echo work; exit 4" });
      expect(first).toMatchObject({ stdout: "work\ncleanup 4\n", exitCode: 4 });
      expect((await bash.run({ command: "echo next" })).stdout).toBe("next\n");
      const invalid = await bash.run({ command: "trap 'echo x' NOPE" });
      expect(invalid).toMatchObject({ stderr: "bash: trap: NOPE: invalid signal specification\n", exitCode: 1 });
    }));

  test("a function defined by calling a kept function is kept too", () =>
    sandbox(async ({ bash }) => {
      await bash.run({ command: "setup() { helper() { echo helped-$1; }; }" });
      expect((await bash.run({ command: "setup; helper a" })).stdout).toBe("helped-a\n");
      expect((await bash.run({ command: "helper b" })).stdout).toBe("helped-b\n");
      expect(bash.describe().functionNames).toEqual(["helper", "setup"]);
    }));

  test("a command that changes nothing the shell carries does not write its state", async () => {
    await runInDurableObject(freshStub(), async (_instance, state) => {
      const writes: string[] = [];
      const sql = new Proxy(state.storage.sql, {
        get: (target, key) =>
          key === "exec"
            ? (query: string, ...bindings: SqlStorageValue[]) => {
                if (!/^\s*SELECT\b/i.test(query)) writes.push(query);
                return target.exec(query, ...bindings);
              }
            : Reflect.get(target, key),
      });
      const bash = new BashSession(new SqliteFs(state.storage), new SqlShellStateStore(sql));
      await bash.run({ command: "cd /tmp; export X=1; f() { :; }" });
      expect(writes.length).toBeGreaterThan(0);
      writes.length = 0;
      await bash.run({ command: "echo hi | tr a-z A-Z; f; ls /" });
      expect(writes).toEqual([]);
      await bash.run({ command: "false" }); // $? is carried: this one changes the state
      expect(writes).toHaveLength(1);
      expect((await bash.run({ command: 'echo "$? $X"; pwd' })).stdout).toBe("1 1\n/tmp\n");
    });
  });

  test("concurrent calls run one at a time, in order", () =>
    sandbox(async ({ bash }) => {
      const [first, second] = await Promise.all([
        bash.run({ command: "cd /tmp; sleep 0.05" }),
        bash.run({ command: "pwd" }),
      ]);
      expect(first.exitCode).toBe(0);
      expect(second.stdout).toBe("/tmp\n");
    }));
});

describe("exit status and output", () => {
  test("exit codes are reported and $? carries over like in one shell", () =>
    sandbox(async ({ bash }) => {
      expect((await bash.run({ command: "false" })).exitCode).toBe(1);
      expect(await bash.run({ command: "echo $?" })).toMatchObject({ stdout: "1\n", exitCode: 0 });
      expect(await bash.run({ command: "echo before; exit 3; echo after" })).toMatchObject({
        stdout: "before\n",
        exitCode: 3,
      });
      expect((await bash.run({ command: "echo $?" })).stdout).toBe("3\n");
      expect((await bash.run({ command: "grep -q nothing /dev/null || echo missing; (exit 4)" })).exitCode).toBe(4);
      expect(await bash.run({ command: "nosuchcommand" })).toMatchObject({
        exitCode: 127,
        stderr: "bash: nosuchcommand: command not found\n",
      });
      expect(await bash.run({ command: "echo 'unterminated" })).toMatchObject({ exitCode: 2 });
    }));

  test("nothing of the session's own machinery shows in the output", () =>
    sandbox(async ({ bash }) => {
      await bash.run({ command: "f() { :; }" });
      expect(await bash.run({ command: "echo -n exact" })).toEqual({
        stdout: "exact",
        stderr: "",
        exitCode: 0,
        truncated: false,
      });
      expect((await bash.run({ command: "set -x; echo traced" })).stderr).toBe("+ echo traced\n");
      expect((await bash.run({ command: "set -x; g() { :; }; g" })).stderr).toBe("+ g\n+ :\n");
      expect((await bash.run({ command: "set -x; echo $(( 1 + $(echo 2) ))" })).stderr).toBe("+ echo 3\n");
    }));

  test("output past 100 KiB is cut with a visible marker", () =>
    sandbox(async ({ bash }) => {
      const result = await bash.run({ command: "seq 1 100000; echo done >&2" });
      expect(result.truncated).toBe(true);
      expect(result.stdout.startsWith("1\n2\n3\n")).toBe(true);
      // seq's 588,895 bytes and stderr's 5, together.
      expect(result.stdout).toMatch(/\n\[output truncated: 575\.1 KiB total, showing first 100 KiB\]\n$/);
      expect(result.stderr).toBe("done\n");
      expect(new TextEncoder().encode(result.stdout + result.stderr).byteLength).toBeLessThan(100 * 1024 + 100);
      expect((await bash.run({ command: "echo small" })).truncated).toBe(false);
      // A cut never splits a multi-byte character: 2^16 two-byte ones after one ASCII byte put the
      // 100 KiB mark inside a character.
      const wide = await bash.run({
        command: `awk 'BEGIN { s = "é"; for (i = 0; i < 16; i++) s = s s; printf "x%s", s }'`,
      });
      expect(wide.truncated).toBe(true);
      expect(wide.stdout).not.toContain("\uFFFD");
      expect(wide.stdout.startsWith(`x${"é".repeat(51199)}\n[output truncated: 128.0 KiB total`)).toBe(true);
    }));

  test("onOutput receives stdout and stderr", () =>
    sandbox(async ({ bash }) => {
      const chunks: [string, string][] = [];
      await bash.run({ command: "echo out; echo err >&2" }, (stream, text) => chunks.push([stream, text]));
      expect(chunks).toEqual([
        ["stdout", "out\n"],
        ["stderr", "err\n"],
      ]);
    }));
});

describe("runaway commands and bad input", () => {
  test(
    "`while true; do :; done` is stopped, says so in one wording, and the next call works",
    { timeout: 60_000 },
    () =>
      sandbox(async ({ bash }) => {
        await bash.run({ command: "cd /tmp" });
        // The deadline or the work budget for 2 s stops it, whichever notices first: both say the same.
        const stopped = await bash.run({ command: "while true; do :; done", timeout_ms: 2_000 });
        expect(stopped.failure).toEqual({ kind: "timeout", message: timeoutMessage(2_000) });
        expect(stopped.exitCode).not.toBe(0);
        expect(await bash.run({ command: "pwd" })).toMatchObject({ stdout: "/tmp\n", exitCode: 0 });
        expect((await bash.run({ command: "pwd" })).failure).toBeUndefined();
      }),
  );

  test("the timeout stops a sleeping command and reports it", () =>
    sandbox(async ({ bash }) => {
      const stopped = await bash.run({ command: "echo started; sleep 30; echo never", timeout_ms: 200 });
      expect(stopped.failure).toEqual({ kind: "timeout", message: timeoutMessage(200) });
      expect(stopped.stdout).not.toContain("never");
      expect((await bash.run({ command: "echo next" })).stdout).toBe("next\n");
    }));

  test("a short timeout stops a busy loop, and the abort path used with network access stops sleeps", () =>
    sandbox(async ({ bash, fs }) => {
      const busy = await bash.run({ command: "while true; do :; done", timeout_ms: 300 });
      expect(busy.failure).toEqual({ kind: "timeout", message: timeoutMessage(300) });
      // With a fetch configured the session also arms an AbortSignal (to cancel requests in flight).
      const networked = new BashSession(fs, new MemoryShellStateStore(), {
        bash: { fetch: async () => Promise.reject(new Error("no network in this test")) },
      });
      const stopped = await networked.run({ command: "sleep 30", timeout_ms: 200 });
      expect(stopped.failure).toEqual({ kind: "timeout", message: timeoutMessage(200) });
      expect((await networked.run({ command: "echo next" })).stdout).toBe("next\n");
    }));

  test("writing past the quota fails with a clear error and keeps the old file", () =>
    sandbox(
      async ({ bash, fs }) => {
        await bash.run({ command: "echo original > data.txt" });
        // `>>` appends without truncating first, so the old content must survive the failed write.
        const result = await bash.run({ command: "seq 1 100000 >> data.txt" });
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toMatch(
          /ENOSPC: sandbox storage quota exceeded \(64 KiB; .*\), append '\/workspace\/data.txt'/,
        );
        expect(await fs.readFile("/workspace/data.txt")).toBe("original\n");
        expect((await bash.run({ command: "cat data.txt; du -b data.txt >/dev/null" })).stdout).toBe("original\n");
        expect(fs.usage().bytes).toBe(9);
      },
      { fs: { quotaBytes: 64 * 1024 } },
    ));

  test("paths and symlinks cannot leave the sandbox", () =>
    sandbox(async ({ bash }) => {
      const result = await bash.run({
        command: "cat ../../../../etc/passwd; ln -s /etc/passwd pw; cat pw; cd ../../../..; pwd; ls",
      });
      expect(result.stdout).toBe("/\ndev\ntmp\nworkspace\n");
      expect(result.stderr).toBe(
        "cat: ../../../../etc/passwd: No such file or directory\ncat: pw: No such file or directory\n",
      );
    }));

  test("describe() gives names, never values", () =>
    sandbox(async ({ bash }) => {
      await bash.run({ command: "export API_KEY=sk-secret-value; helper() { echo sk-secret-value; }" });
      const described = bash.describe();
      expect(described.variableNames).toContain("API_KEY");
      expect(described.functionNames).toEqual(["helper"]);
      expect(JSON.stringify(described)).not.toContain("sk-secret-value");
    }));
});

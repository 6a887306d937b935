import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { BashSession } from "../../src/sandbox/bash/bash-session.ts";
import { JUST_BASH_VERSION, SqlShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { first, run } from "../../src/storage/sql.ts";

// Stored shell state across just-bash versions: what the current version writes replays after a
// wake; what another version wrote keeps cwd and variables and drops its functions with a note.
function freshStub(): DurableObjectStub {
  return env.REGISTRY.get(env.REGISTRY.idFromName(`shell-upgrade-${crypto.randomUUID()}`));
}

function withSession<T>(stub: DurableObjectStub, body: (bash: BashSession, sql: SqlStorage) => Promise<T>) {
  return runInDurableObject(stub, (_instance, state) => {
    const fs = new SqliteFs(state.storage);
    return body(new BashSession(fs, new SqlShellStateStore(state.storage.sql)), state.storage.sql);
  });
}

function storedState(sql: SqlStorage): Record<string, unknown> {
  const row = first<{ state: string }>(sql, "SELECT state FROM shell_state WHERE id = 1");
  return JSON.parse(row?.state ?? "null") as Record<string, unknown>;
}

describe("shell state and the just-bash version", () => {
  test("state records the just-bash version that wrote it and replays after eviction", async () => {
    const stub = freshStub();
    await withSession(stub, async (bash, sql) => {
      await bash.run({ command: "mkdir -p /tmp/p && cd /tmp/p; export A=1; twice() { echo $1$1; }" });
      expect(storedState(sql).just_bash).toBe(JUST_BASH_VERSION);
    });
    await evictDurableObject(stub);
    await withSession(stub, async (bash) => {
      const out = await bash.run({ command: "pwd; echo $A; twice x" });
      expect(out).toEqual({ stdout: "/tmp/p\n1\nxx\n", stderr: "", exitCode: 0, truncated: false });
    });
  });

  test("state from another just-bash version keeps cwd and variables, drops functions with a note", async () => {
    const stub = freshStub();
    await withSession(stub, async (bash, sql) => {
      await bash.run({ command: "mkdir -p /tmp/q && cd /tmp/q; export B=2; f() { echo f; }; g() { echo g; }" });
      const state = storedState(sql);
      run(sql, "UPDATE shell_state SET state = ?", JSON.stringify({ ...state, just_bash: "0.9.0" }));
    });
    await evictDurableObject(stub);
    await withSession(stub, async (bash, sql) => {
      expect(bash.describe().functionNames).toEqual([]);
      const out = await bash.run({ command: "pwd; echo $B; type f >/dev/null 2>&1 || echo no-f" });
      expect(out.stdout).toBe("/tmp/q\n2\nno-f\n");
      expect(out.stderr).toBe(
        `note: shell functions f, g were saved by just-bash 0.9.0 and are not kept after the upgrade to just-bash ${JUST_BASH_VERSION}; define them again\n`,
      );
      expect(storedState(sql).just_bash).toBe(JUST_BASH_VERSION);
      // The note comes once; functions defined now are kept again.
      const next = await bash.run({ command: "h() { echo h; }; pwd" });
      expect(next).toMatchObject({ stdout: "/tmp/q\n", stderr: "" });
      expect((await bash.run({ command: "h" })).stdout).toBe("h\n");
    });
  });

  test("state saved before versions were recorded is treated as another version", async () => {
    const stub = freshStub();
    await withSession(stub, async (bash, sql) => {
      await bash.run({ command: "cd /tmp; old() { :; }" });
      const { just_bash: _version, ...legacy } = storedState(sql);
      run(sql, "UPDATE shell_state SET state = ?", JSON.stringify(legacy));
    });
    await evictDurableObject(stub);
    await withSession(stub, async (bash) => {
      const out = await bash.run({ command: "pwd" });
      expect(out.stdout).toBe("/tmp\n");
      expect(out.stderr).toContain("shell function old was saved by an earlier Tether release and is not kept");
    });
  });
});

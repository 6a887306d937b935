import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, test } from "vitest";
import {
  ADMIN,
  bash,
  call,
  createSandbox,
  readRest,
  sandboxStub,
  startStreamedBash,
  toolCalls,
  warmUp,
} from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

/** Tables in the object's database (SQLite's and the runtime's own excluded). */
async function userTables(id: string): Promise<string[]> {
  return runInDurableObject(sandboxStub(id), (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((row) => row.name)
      .filter((name) => !name.startsWith("_cf_") && !name.startsWith("sqlite_")),
  );
}

/** Pretends the sandbox's last activity was `ms` ago (the TTL is measured from it). */
async function backdate(id: string, ms: number): Promise<void> {
  await runInDurableObject(sandboxStub(id), (_instance, state) => {
    state.storage.sql.exec("UPDATE sandbox_meta SET last_activity = ?", Date.now() - ms);
  });
}

describe("TTL of inactivity", () => {
  test("an alarm is armed at creation for the TTL", async () => {
    const sandbox = await createSandbox({ ttl_seconds: 600 });
    const alarm = await runInDurableObject(sandboxStub(sandbox.id), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm! - Date.now()).toBeGreaterThan(590_000);
  });

  test("an idle sandbox past its TTL is destroyed by the alarm: 404, storage and registry entry gone", async () => {
    const sandbox = await createSandbox({ ttl_seconds: 60, files: { "a.txt": "a" } });
    await backdate(sandbox.id, 61_000);
    expect(await runDurableObjectAlarm(sandboxStub(sandbox.id))).toBe(true);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(404);
    expect(await userTables(sandbox.id)).toEqual([]);
    const list = (await (await call("/admin/sandboxes", ADMIN)).json()) as { sandboxes: Array<{ id: string }> };
    expect(list.sandboxes.map((s) => s.id)).not.toContain(sandbox.id);
  });

  test("activity not yet written when the alarm fires still counts: the sandbox lives on", async () => {
    const sandbox = await createSandbox({ ttl_seconds: 60 });
    await evictDurableObject(sandboxStub(sandbox.id)); // the next wake reads the backdated record
    await backdate(sandbox.id, 61_000);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(200);
    expect(await runDurableObjectAlarm(sandboxStub(sandbox.id))).toBe(true);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(200);
    const stored = await runInDurableObject(sandboxStub(sandbox.id), (_instance, state) =>
      state.storage.sql.exec<{ last_activity: number }>("SELECT last_activity FROM sandbox_meta").one(),
    );
    expect(Date.now() - stored.last_activity).toBeLessThan(30_000);
  });

  test("activity moves the deadline: an alarm before it only re-arms", async () => {
    const sandbox = await createSandbox({ ttl_seconds: 60 });
    await backdate(sandbox.id, 30_000);
    expect(await runDurableObjectAlarm(sandboxStub(sandbox.id))).toBe(true);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(200);
    const alarm = await runInDurableObject(sandboxStub(sandbox.id), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });
});

describe("destroying under load", () => {
  test("DELETE while a call runs and another waits: the waiting one gets 404, no storage is left", async () => {
    const sandbox = await createSandbox();
    const { reader } = await startStreamedBash(sandbox, { command: "sleep 0.3; echo done > /workspace/late.txt" });
    const waiting = toolCalls(sandbox, {
      type: "tool_use",
      id: "w",
      name: "bash",
      input: { command: "echo hi > x.txt" },
    });
    expect((await call(`/v1/sandboxes/${sandbox.id}`, ADMIN, { method: "DELETE" })).status).toBe(204);
    expect((await waiting).status).toBe(404);
    await readRest(reader);
    expect(await userTables(sandbox.id)).toEqual([]);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, ADMIN)).status).toBe(404);
  });
});

describe("eviction", () => {
  test("files and shell state survive the object being evicted between calls", async () => {
    const sandbox = await createSandbox();
    const setup = await bash(
      sandbox,
      "mkdir -p /workspace/proj && cd /workspace/proj && echo kept > f.txt && export COLOR=blue && greet() { echo hi $1; }",
    );
    expect(setup.isError).toBe(false);
    await evictDurableObject(sandboxStub(sandbox.id));
    const after = await bash(sandbox, 'pwd; cat f.txt; echo "$COLOR"; greet there');
    expect(after.text).toBe("/workspace/proj\nkept\nblue\nhi there\n");
  });
});

describe("inspection", () => {
  test("admin detail shows size, files, shell names (never values) and the trace", async () => {
    const sandbox = await createSandbox({ env: { SECRET_TOKEN: "s3cr3t-value" } });
    await bash(sandbox, "echo 12345 > /workspace/n.txt; cd /tmp; export OTHER=x");
    await bash(sandbox, "exit 3");
    const res = await call(`/admin/sandboxes/${sandbox.id}`, ADMIN);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("s3cr3t-value");
    const details = JSON.parse(text) as {
      size_bytes: number;
      file_count: number;
      shell: { cwd: string; variables: string[] };
      trace: Array<{ tool: string; bytes: number; error: string | null; duration_ms: number }>;
    };
    expect(details.size_bytes).toBe(6);
    expect(details.file_count).toBe(1);
    expect(details.shell.cwd).toBe("/tmp");
    expect(details.shell.variables).toEqual(expect.arrayContaining(["SECRET_TOKEN", "OTHER"]));
    expect(details.trace).toHaveLength(2);
    expect(details.trace[0]).toMatchObject({ tool: "bash", error: null });
    expect(details.trace[0]!.bytes).toBeGreaterThan(0);
    expect((await call("/admin/sandboxes/nope-nope", ADMIN)).status).toBe(404);
  });

  test("the admin detail shows the most recent 200 calls (the trail keeps more: /admin/sandboxes/:id/traces)", async () => {
    const sandbox = await createSandbox();
    const blocks = Array.from({ length: 205 }, (_, i) => ({ type: "tool_use", id: `t${i}`, name: "nope", input: {} }));
    const res = await call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
      method: "POST",
      body: JSON.stringify(blocks),
    });
    expect(res.status).toBe(200);
    const details = (await (await call(`/admin/sandboxes/${sandbox.id}`, ADMIN)).json()) as {
      trace: Array<{ tool_use_id: string; error: string | null }>;
    };
    expect(details.trace).toHaveLength(200);
    expect(details.trace[0]!.tool_use_id).toBe("t204");
    expect(details.trace.at(-1)!.tool_use_id).toBe("t5");
    expect(details.trace[0]!.error).toContain("unknown tool");
  });

  test("the admin list shows every sandbox with its figures; listing is not activity", async () => {
    const sandbox = await createSandbox({ files: { "x.txt": "xyz" } });
    await backdate(sandbox.id, 5_000);
    const before = (await (await call(`/admin/sandboxes/${sandbox.id}`, ADMIN)).json()) as { last_activity: string };
    const list = (await (await call("/admin/sandboxes", ADMIN)).json()) as {
      sandboxes: Array<{ id: string; size_bytes: number; file_count: number; last_activity: string }>;
    };
    const entry = list.sandboxes.find((s) => s.id === sandbox.id);
    expect(entry).toMatchObject({ size_bytes: 3, file_count: 1, last_activity: before.last_activity });
  });
});

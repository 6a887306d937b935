import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, test } from "vitest";
import type { Page } from "../../src/audit/trace-query.ts";
import { ADMIN, bash, type Created, call, createSandbox, runTool, sandboxStub, warmUp } from "./sandbox-helpers.ts";

beforeAll(warmUp, 120_000);

const DAY = 86_400_000;

interface TraceRow {
  id: number;
  at: number;
  toolUseId: string;
  tool: string;
  error: string | null;
  caller: string | null;
  input: string | null;
  result: string | null;
}
async function traces(id: string, query = ""): Promise<Page<TraceRow>> {
  const res = await call(`/admin/sandboxes/${id}/traces${query}`, ADMIN);
  if (res.status !== 200) throw new Error(`traces: ${res.status} ${await res.text()}`);
  return (await res.json()) as Page<TraceRow>;
}

function storedRows(id: string): Promise<number> {
  return runInDurableObject(
    sandboxStub(id),
    (_instance, state) => state.storage.sql.exec("SELECT count(*) AS n FROM sandbox_trace").one().n as number,
  );
}

/** Runs `count` quick calls (an unknown tool answers at once with an error) in one request. */
async function quickCalls(sandbox: Created, count: number, prefix = "q") {
  const blocks = Array.from({ length: count }, (_, i) => ({
    type: "tool_use",
    id: `${prefix}${i}`,
    name: "nope",
    input: {},
  }));
  const res = await call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
    method: "POST",
    body: JSON.stringify(blocks),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

describe("the sandbox's tool-call trail", () => {
  test("by default each call's input and the start of its result are kept, redacted, with the caller", async () => {
    const sandbox = await createSandbox({ env: { DEPLOY_KEY: "s3cr3t-deploy-value" } });
    await bash(sandbox, "echo 'Authorization: Bearer abcdefgh12345678'; echo $DEPLOY_KEY");
    await runTool(sandbox, "bash", { command: "seq 1 3000", password: "hunter2" });
    const page = await traces(sandbox.id);
    const [long, first] = page.rows;
    expect(first?.caller).toBe(`sandbox-token:${sandbox.token_id}`);
    expect(JSON.parse(first?.input ?? "null")).toEqual({
      command: "echo 'Authorization: [REDACTED]'; echo $DEPLOY_KEY",
    });
    expect(first?.result).toBe("Authorization: [REDACTED]\n[REDACTED]\n");
    expect(JSON.parse(long?.input ?? "null")).toEqual({ command: "seq 1 3000", password: "[REDACTED]" });
    expect(new TextEncoder().encode(long?.result ?? "").byteLength).toBeLessThanOrEqual(2048);
    expect(long?.result).toMatch(/^1\n2\n3\n/);
    expect(long?.result).toMatch(/…\[truncated, \d+ bytes\]$/);
    // Once written, the same.
    await call(`/admin/sandboxes/${sandbox.id}`, ADMIN);
    expect(await runDurableObjectAlarm(sandboxStub(sandbox.id))).toBe(true);
    expect(await storedRows(sandbox.id)).toBe(2);
    const stored = await traces(sandbox.id);
    expect(stored.rows).toEqual(page.rows);
    const text = JSON.stringify(stored);
    expect(text).not.toMatch(/s3cr3t-deploy-value|hunter2|abcdefgh12345678/);
    // The admin detail shows the same fields.
    const detail = (await (await call(`/admin/sandboxes/${sandbox.id}`, ADMIN)).json()) as {
      trace: Array<{ caller: string; input: string; result: string }>;
    };
    expect(detail.trace[1]).toMatchObject({ caller: first?.caller, input: first?.input, result: first?.result });
  });

  test("payloads off at creation: the trail keeps who, what, when and outcome only", async () => {
    const sandbox = await createSandbox({ audit: { payloads: false } });
    await bash(sandbox, "echo hi");
    const [row] = (await traces(sandbox.id)).rows;
    expect(row).toMatchObject({ tool: "bash", error: null, input: null, result: null });
    expect(row?.caller).toMatch(/^sandbox-token:/);
  });

  test("bad audit options are refused at creation with the field named", async () => {
    for (const audit of [{ max_rows: 0 }, { retention_days: 0 }, { payloads: "no" }, { keep: true }]) {
      const res = await call("/v1/sandboxes", ADMIN, { method: "POST", body: JSON.stringify({ audit }) });
      expect(res.status, JSON.stringify(audit)).toBe(400);
      expect(await res.text()).toContain("audit");
    }
  });

  test("the alarm prunes by row count (max_rows) and by age (retention_days)", async () => {
    const sandbox = await createSandbox({ audit: { max_rows: 10, retention_days: 2 } });
    await quickCalls(sandbox, 25);
    expect(await runDurableObjectAlarm(sandboxStub(sandbox.id))).toBe(true);
    expect(await storedRows(sandbox.id)).toBe(10);
    const kept = await traces(sandbox.id, "?limit=100");
    expect(kept.rows.map((row) => row.toolUseId)).toEqual(Array.from({ length: 10 }, (_, i) => `q${24 - i}`));
    await runInDurableObject(sandboxStub(sandbox.id), (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE sandbox_trace SET at = ? WHERE tool_use_id IN ('q15', 'q16')",
        Date.now() - 3 * DAY,
      );
    });
    expect(await runDurableObjectAlarm(sandboxStub(sandbox.id))).toBe(true);
    expect(await storedRows(sandbox.id)).toBe(8);
    // The sandbox lives on: the alarm is armed again (expiry, or the next pruning first).
    const alarm = await runInDurableObject(sandboxStub(sandbox.id), (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });

  test("filters (tool, status, caller) and id cursors", async () => {
    const sandbox = await createSandbox();
    await quickCalls(sandbox, 4, "bad");
    await bash(sandbox, "echo one");
    await bash(sandbox, "echo two");
    const failed = await traces(sandbox.id, "?status=error");
    expect(failed.rows.map((row) => row.toolUseId)).toEqual(["bad3", "bad2", "bad1", "bad0"]);
    const ok = await traces(sandbox.id, "?status=ok&tool=bash");
    expect(ok.rows.map((row) => row.result)).toEqual(["two\n", "one\n"]);
    const mine = await traces(
      sandbox.id,
      `?session=${encodeURIComponent(`sandbox-token:${sandbox.token_id}`)}&limit=4`,
    );
    expect(mine.rows).toHaveLength(4);
    const rest = await traces(sandbox.id, `?limit=4&before=${mine.next}`);
    expect(rest.rows.map((row) => row.toolUseId)).toEqual(["bad1", "bad0"]);
    expect(rest.next).toBeNull();
    const bad = await call(`/admin/sandboxes/${sandbox.id}/traces?status=odd`, ADMIN);
    expect(bad.status).toBe(400);
    expect((await call("/admin/sandboxes/no-such-sandbox/traces", ADMIN)).status).toBe(404);
    expect((await call(`/admin/sandboxes/${sandbox.id}/traces`, sandbox.token)).status).toBe(401);
  });

  test("a Managed Agents session's calls are recorded with the session as the caller", async () => {
    const sandbox = await createSandbox();
    const outcome = await sandboxStub(sandbox.id).toolsetCall(
      { kind: "admin" },
      { id: "toolu_1", name: "bash", input: { command: "echo from-session" } },
      { session: "sesn_42" },
    );
    expect(outcome.ok).toBe(true);
    const [row] = (await traces(sandbox.id)).rows;
    expect(row).toMatchObject({ tool: "bash", caller: "session:sesn_42", result: "from-session" });
  });

  test("rows survive an eviction; an older sandbox_trace table is migrated on wake", async () => {
    const sandbox = await createSandbox();
    await bash(sandbox, "echo kept");
    await runDurableObjectAlarm(sandboxStub(sandbox.id));
    expect(await storedRows(sandbox.id)).toBe(1);
    await evictDurableObject(sandboxStub(sandbox.id));
    expect((await traces(sandbox.id)).rows.map((row) => row.result)).toEqual(["kept\n"]);

    const old = await createSandbox();
    await runInDurableObject(sandboxStub(old.id), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE sandbox_trace");
      sql.exec("DROP TABLE sandbox_audit");
      sql.exec(`CREATE TABLE sandbox_trace (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, tool_use_id TEXT NOT NULL,
        tool TEXT NOT NULL, duration_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, error TEXT)`);
      sql.exec(
        "INSERT INTO sandbox_trace (at, tool_use_id, tool, duration_ms, bytes, error) VALUES (?, 'old', 'bash', 1, 2, NULL)",
        Date.now(),
      );
    });
    await evictDurableObject(sandboxStub(old.id));
    await bash(old, "echo new");
    await runDurableObjectAlarm(sandboxStub(old.id));
    const rows = (await traces(old.id)).rows;
    expect(rows.map((row) => [row.id, row.toolUseId === "old" ? "old" : row.result, row.input === null])).toEqual([
      [2, "new\n", false],
      [1, "old", true],
    ]);
  });
});

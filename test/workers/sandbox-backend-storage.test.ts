/**
 * Storage written before gateway sandboxes existed keeps working: a sandbox whose sandbox_meta
 * lacks the backend columns is an edge sandbox (the columns are added on wake, idempotently), and
 * an API token minted before backend scopes may use the edge only. Also the create request's
 * backend validation at the edge.
 */

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, expect, test } from "vitest";
import { ADMIN, bash, call, createSandbox, sandboxStub, warmUp } from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

const OLD_META = `CREATE TABLE sandbox_meta (
  id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, last_activity INTEGER NOT NULL,
  ttl_seconds INTEGER NOT NULL, quota_bytes INTEGER NOT NULL, network_allow TEXT NOT NULL, env TEXT NOT NULL, creator TEXT)`;

const post = (path: string, token: string, body: unknown) =>
  call(path, token, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

function columns(sql: SqlStorage, table: string): string[] {
  return sql
    .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
    .toArray()
    .map((row) => row.name);
}

test("a sandbox stored before backends existed is an edge sandbox; its table gains the columns once", async () => {
  const sandbox = await createSandbox({ env: { KEPT: "yes" } });
  await bash(sandbox, "echo old > /workspace/old.txt");
  const stub = sandboxStub(sandbox.id);
  // Rewrite the record as the previous version stored it.
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const row = sql.exec("SELECT * FROM sandbox_meta").one();
    sql.exec("DROP TABLE sandbox_meta");
    sql.exec(OLD_META);
    sql.exec(
      "INSERT INTO sandbox_meta VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      row.id,
      row.created_at,
      row.last_activity,
      row.ttl_seconds,
      row.quota_bytes,
      row.network_allow,
      row.env,
      row.creator,
    );
  });
  for (let wake = 0; wake < 2; wake++) {
    await evictDurableObject(stub);
    const described = await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token);
    expect(described.status).toBe(200);
    expect(((await described.json()) as { backend: unknown }).backend).toEqual({ type: "edge" });
    expect((await bash(sandbox, 'cat /workspace/old.txt; echo "$KEPT"')).text).toBe("old\nyes\n");
  }
  const names = await runInDurableObject(stub, (_instance, state) => columns(state.storage.sql, "sandbox_meta"));
  expect(names).toEqual(expect.arrayContaining(["backend", "executor_instance", "executor_gateway"]));
});

test("an API token minted before backend scopes may create edge sandboxes only", async () => {
  const minted = await post("/admin/tokens", ADMIN, { label: "from before scopes" });
  const { token, id } = (await minted.json()) as { token: string; id: string };
  const registry = env.REGISTRY.get(env.REGISTRY.idFromName("global"));
  await runInDurableObject(registry, (_instance, state) => {
    state.storage.sql.exec("ALTER TABLE api_tokens DROP COLUMN backends");
  });
  await evictDurableObject(registry);
  expect((await post("/v1/sandboxes", token, {})).status).toBe(201);
  const refused = await post("/v1/sandboxes", token, { backend: { type: "gateway", tunnel: "crm", executor: "main" } });
  expect(refused.status).toBe(403);
  const listed = (await (await call("/admin/tokens", ADMIN)).json()) as {
    tokens: { id: string; backends: string[] }[];
  };
  expect(listed.tokens.find((entry) => entry.id === id)?.backends).toEqual(["edge"]);
  const names = await runInDurableObject(registry, (_instance, state) => columns(state.storage.sql, "api_tokens"));
  expect(names).toContain("backends");
});

test("a create request's backend is validated at the edge, naming what is wrong", async () => {
  const cases: [unknown, string][] = [
    [{ type: "cloud" }, "backend.type"],
    [{ type: "gateway", tunnel: "crm" }, "backend.executor"],
    [{ type: "gateway", tunnel: "Not A Tunnel", executor: "main" }, "tunnel names are"],
    [{ type: "gateway", tunnel: "crm", executor: "main", extra: 1 }, "extra"],
    [{ type: "edge", tunnel: "crm" }, "tunnel"],
  ];
  for (const [backend, expected] of cases) {
    const res = await post("/v1/sandboxes", ADMIN, { backend });
    expect(res.status, JSON.stringify(backend)).toBe(400);
    expect(await res.text()).toContain(expected);
  }
  const quota = await post("/v1/sandboxes", ADMIN, {
    backend: { type: "gateway", tunnel: "crm", executor: "main" },
    quota_bytes: 1 << 20,
  });
  expect(quota.status).toBe(400);
  expect(await quota.text()).toContain("quota_bytes");
});

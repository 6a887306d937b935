import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import { type AuditRecord, AuditRecordSchema } from "../../src/audit/audit-record.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { bash, createSandbox } from "./sandbox-helpers.ts";
import { ADMIN_TOKEN, admin, callTrace, createTunnel, edgeFetch, uniqueName, warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

async function exported(query: string): Promise<{ records: AuditRecord[]; text: string }> {
  const res = await admin("GET", `/admin/audit${query}`);
  if (res.status !== 200) throw new Error(`export: ${res.status} ${await res.text()}`);
  expect(res.headers.get("content-type")).toContain("application/x-ndjson");
  const text = new TextDecoder().decode(await res.arrayBuffer());
  const records = text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => AuditRecordSchema.parse(JSON.parse(line)));
  return { records, text };
}

function seedCalls(tunnel: string, times: number[]) {
  return runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel), (_instance, state) => {
    const writes = new WriteBehind(state.storage);
    const traces = new TraceStore(state.storage.sql, writes);
    for (const [i, at] of times.entries()) traces.add({ ...callTrace(`m${i}`, at), tokenId: "agent-1" });
    writes.flush();
  });
}

describe("operator actions", () => {
  test("every change through the admin API is recorded with the operator, and never a secret", async () => {
    const name = uniqueName("ops");
    const tunnel = await createTunnel({}, name);
    await admin("PATCH", `/admin/tunnels/${name}`, { sseKeepAliveMs: 2000, audit: { payloads: true } });
    const issued = (await (await admin("POST", `/admin/tunnels/${name}/tokens`, { role: "agent" })).json()) as {
      id: string;
      token: string;
    };
    await admin("DELETE", `/admin/tunnels/${name}/tokens/${issued.id}`);
    await runInDurableObject(env.TUNNEL_RELAY.getByName(name), (_instance, state) => {
      state.storage.sql.exec(
        "INSERT INTO sessions VALUES ('echo', 'sid-9', 'tok', 'gw-gone', NULL, NULL, NULL, ?, ?)",
        Date.now(),
        Date.now(),
      );
    });
    expect((await admin("DELETE", `/admin/tunnels/${name}/sessions/echo/sid-9`)).status).toBe(200);
    // A refused change is not an action.
    expect((await admin("PATCH", `/admin/tunnels/${name}`, { sseKeepAliveMs: 1 })).status).toBe(400);
    expect((await admin("DELETE", `/admin/tunnels/${name}`)).status).toBe(200);

    const { records, text } = await exported(`?kind=operator_action&tunnel=${name}`);
    expect(records.map((record) => [record.what, record.target])).toEqual([
      ["tunnel.deleted", null],
      ["tunnel.session_ended", "echo/sid-9"],
      ["tunnel.token_revoked", issued.id],
      ["tunnel.token_created", issued.id],
      ["tunnel.settings_changed", null],
      ["tunnel.created", null],
    ]);
    for (const record of records) {
      expect(record).toMatchObject({ kind: "operator_action", who: "admin-token", tunnel: name, ok: true });
    }
    expect(records[1]?.detail).toEqual({ upstream: "not_connected" });
    expect(records[4]?.detail).toMatchObject({ changed: { sseKeepAliveMs: 2000, audit: { payloads: true } } });
    for (const secret of [tunnel.gatewayToken, tunnel.agentToken, issued.token]) expect(text).not.toContain(secret);
  });

  test("API tokens and sandbox deletions by the admin token are recorded", async () => {
    const created = (await (await admin("POST", "/admin/tokens", { label: "ci-bot" })).json()) as {
      id: string;
      token: string;
    };
    expect((await admin("DELETE", `/admin/tokens/${created.id}`)).status).toBe(204);
    const sandbox = await createSandbox();
    const deleted = await edgeFetch(`/v1/sandboxes/${sandbox.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(deleted.status).toBe(204);
    const { records, text } = await exported("?kind=operator_action");
    const mine = records.filter((record) => record.target === created.id || record.sandbox === sandbox.id);
    expect(mine.map((record) => [record.what, record.who])).toEqual([
      ["sandbox.deleted", "admin-token"],
      ["api_token.revoked", "admin-token"],
      ["api_token.created", "admin-token"],
    ]);
    expect(mine[2]?.detail).toEqual({ label: "ci-bot", backends: ["edge"] });
    expect(text).not.toContain(created.token);
    // Scoped to the sandbox: its operator actions only.
    const scoped = await exported(`?sandbox=${sandbox.id}`);
    expect(scoped.records.map((record) => record.what)).toEqual(["sandbox.deleted"]);
  });
});

describe("GET /admin/audit", () => {
  test("tunnel calls, sandbox calls and operator actions in one schema; filters by tunnel, kind and time", async () => {
    const a = await createTunnel();
    const b = await createTunnel();
    const now = Date.now();
    await seedCalls(a.name, [now - 3000, now - 2000, now - 1000]);
    await seedCalls(b.name, [now - 1500]);
    const sandbox = await createSandbox();
    await bash(sandbox, "echo audited");

    const onlyA = await exported(`?tunnel=${a.name}`);
    expect(onlyA.records.map((record) => [record.kind, record.what])).toEqual([
      ["operator_action", "tunnel.created"],
      ["tunnel_call", "m2"],
      ["tunnel_call", "m1"],
      ["tunnel_call", "m0"],
    ]);
    expect(onlyA.records[1]).toMatchObject({
      tunnel: a.name,
      sandbox: null,
      who: "agent-1",
      server: "echo",
      status: 200,
      ok: true,
      args: null,
    });

    const calls = await exported(`?kind=tunnel_call&since=${new Date(now - 2500).toISOString()}&until=${now - 1000}`);
    const seen = calls.records.filter((record) => record.tunnel === a.name || record.tunnel === b.name);
    expect(seen.map((record) => [record.tunnel, record.what])).toEqual([
      [a.name, "m1"],
      [b.name, "m0"],
    ]);
    expect(calls.records.every((record) => record.kind === "tunnel_call")).toBe(true);

    const sandboxCalls = await exported(`?kind=sandbox_call&sandbox=${sandbox.id}`);
    expect(sandboxCalls.records).toHaveLength(1);
    expect(sandboxCalls.records[0]).toMatchObject({
      kind: "sandbox_call",
      sandbox: sandbox.id,
      what: "bash",
      tool: "bash",
      ok: true,
      who: `sandbox-token:${sandbox.token_id}`,
      result: "audited\n",
    });
    expect(JSON.parse(sandboxCalls.records[0]?.args ?? "null")).toEqual({ command: "echo audited" });
  });

  test("bad parameters are 400 with a clear message; without the admin token 401", async () => {
    for (const [query, message] of [
      [
        "?since=last-week",
        'since: expected an ISO 8601 time (2026-12-01T10:00:00Z) or epoch milliseconds, got "last-week"',
      ],
      ["?until=2026-13-45", "until: expected an ISO 8601 time"],
      ["?since=2000&until=1000", "since must be before until"],
      ["?format=csv", 'the only format is "jsonl"'],
      ["?kind=everything", "kind"],
      ["?tunnel=Not_A_Name", "tunnel: not a tunnel name"],
      ["?sandbox=../x", "sandbox: not a sandbox id"],
      ["?colour=red", "colour"],
    ] as const) {
      const res = await admin("GET", `/admin/audit${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code, query).toBe("bad_request");
      expect(body.error.message, query).toContain(message);
    }
    expect((await edgeFetch("/admin/audit")).status).toBe(401);
  });
});

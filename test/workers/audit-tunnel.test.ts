import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import type { Page } from "../../src/audit/trace-query.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { admin, callTrace, createTunnel, warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

const DAY = 86_400_000;

interface TraceRow {
  id: number;
  at: number;
  server: string;
  tool: string | null;
  rpcMethod: string | null;
  sessionId: string | null;
  status: number;
  error: string | null;
  args: string | null;
  result: string | null;
}
async function tracePage(tunnel: string, query = ""): Promise<Page<TraceRow>> {
  const res = await admin("GET", `/admin/tunnels/${tunnel}/traces${query}`);
  if (res.status !== 200) throw new Error(`traces: ${res.status} ${await res.text()}`);
  return (await res.json()) as Page<TraceRow>;
}

/** Writes rows straight into the relay's table (seeding; the relay itself adds one per call). */
function seed(
  tunnel: string,
  rows: Array<{ at: number; server?: string; tool?: string; status?: number; session?: string }>,
) {
  return runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel), (_instance, state) => {
    const writes = new WriteBehind(state.storage);
    const traces = new TraceStore(state.storage.sql, writes);
    for (const row of rows) {
      traces.add({
        ...callTrace("tools/call", row.at),
        server: row.server ?? "echo",
        tool: row.tool ?? null,
        status: row.status ?? 200,
        sessionId: row.session ?? null,
      });
    }
    writes.flush();
    // The relay prunes from its alarm: make sure one is set.
    void state.storage.setAlarm(Date.now() + 60_000);
  });
}

function storedCount(tunnel: string): Promise<number> {
  return runInDurableObject(
    env.TUNNEL_RELAY.getByName(tunnel),
    (_instance, state) => state.storage.sql.exec("SELECT count(*) AS n FROM traces").one().n as number,
  );
}

describe("the tunnel's audit trail", () => {
  test("defaults: 30 days, 100,000 rows, no payloads; PATCH changes one field and keeps the others", async () => {
    const tunnel = await createTunnel();
    const shown = (await (await admin("GET", `/admin/tunnels/${tunnel.name}`)).json()) as { settings: unknown };
    expect(shown.settings).toMatchObject({ audit: { retentionDays: 30, maxRows: 100_000, payloads: false } });
    const patched = await admin("PATCH", `/admin/tunnels/${tunnel.name}`, { audit: { payloads: true } });
    expect(await patched.json()).toMatchObject({
      settings: { audit: { retentionDays: 30, maxRows: 100_000, payloads: true } },
    });
    const again = await admin("PATCH", `/admin/tunnels/${tunnel.name}`, { audit: { maxRows: 500 } });
    expect(await again.json()).toMatchObject({
      settings: { audit: { retentionDays: 30, maxRows: 500, payloads: true } },
    });
  });

  test("bad audit settings are refused with the field named, and nothing changes", async () => {
    const tunnel = await createTunnel({ audit: { maxRows: 1000 } });
    for (const audit of [{ retentionDays: 0 }, { maxRows: 1.5 }, { payloads: "yes" }, { keep: 1 }]) {
      const res = await admin("PATCH", `/admin/tunnels/${tunnel.name}`, { audit });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/audit/);
    }
    const created = await admin("POST", "/admin/tunnels", {
      name: `${tunnel.name}-x`,
      audit: { retentionDays: 99999 },
    });
    expect(created.status).toBe(400);
    const shown = (await (await admin("GET", `/admin/tunnels/${tunnel.name}`)).json()) as { settings: unknown };
    expect(shown.settings).toMatchObject({ audit: { retentionDays: 30, maxRows: 1000, payloads: false } });
  });

  test("the alarm prunes by row count, keeping the newest", async () => {
    const tunnel = await createTunnel({ audit: { maxRows: 50 } });
    const now = Date.now();
    await seed(
      tunnel.name,
      Array.from({ length: 120 }, (_, i) => ({ at: now - 1000 + i, tool: `t${i}` })),
    );
    expect(await storedCount(tunnel.name)).toBe(120);
    expect(await runDurableObjectAlarm(env.TUNNEL_RELAY.getByName(tunnel.name))).toBe(true);
    expect(await storedCount(tunnel.name)).toBe(50);
    const page = await tracePage(tunnel.name, "?limit=500");
    expect(page.rows.map((row) => row.tool)).toEqual(Array.from({ length: 50 }, (_, i) => `t${119 - i}`));
  });

  test("the alarm prunes by age (retentionDays, changed by PATCH) and re-arms while rows are left", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    await seed(tunnel.name, [
      { at: now - 40 * DAY, tool: "ancient" },
      { at: now - 3 * DAY, tool: "old" },
      { at: now - 1000, tool: "new" },
    ]);
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await tracePage(tunnel.name)).rows.map((row) => row.tool)).toEqual(["new", "old"]);
    await admin("PATCH", `/admin/tunnels/${tunnel.name}`, { audit: { retentionDays: 2 } });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await tracePage(tunnel.name)).rows.map((row) => row.tool)).toEqual(["new"]);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });

  test("filters and id cursors page through stored and buffered rows alike", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    const rows = Array.from({ length: 30 }, (_, i) => ({
      at: now - 30_000 + i * 1000,
      server: i % 2 === 0 ? "alpha" : "beta",
      tool: i % 3 === 0 ? "search" : "fetch",
      status: i % 5 === 0 ? 500 : 200,
      session: i < 10 ? "s1" : "s2",
    }));
    await seed(tunnel.name, rows);

    const all = await tracePage(tunnel.name, "?limit=7");
    expect(all.rows.map((row) => row.id)).toEqual([30, 29, 28, 27, 26, 25, 24]);
    expect(all.next).toBe(24);
    const ids: number[] = [];
    let cursor: number | string | null = null;
    do {
      const page: Page<TraceRow> = await tracePage(
        tunnel.name,
        `?limit=7${cursor === null ? "" : `&before=${cursor}`}`,
      );
      ids.push(...page.rows.map((row) => row.id));
      cursor = page.next;
    } while (cursor !== null);
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));

    const alpha = await tracePage(tunnel.name, "?server=alpha&limit=100");
    expect(alpha.rows).toHaveLength(15);
    expect(alpha.rows.every((row) => row.server === "alpha")).toBe(true);
    const failed = await tracePage(tunnel.name, "?status=error&limit=100");
    expect(failed.rows.map((row) => row.id)).toEqual([26, 21, 16, 11, 6, 1]);
    const ok = await tracePage(tunnel.name, "?status=ok&limit=100");
    expect(ok.rows).toHaveLength(24);
    const s1Search = await tracePage(tunnel.name, "?session=s1&tool=search&limit=100");
    expect(s1Search.rows.map((row) => row.id)).toEqual([10, 7, 4, 1]);
    const newer = await tracePage(tunnel.name, "?after=27");
    expect(newer.rows.map((row) => row.id)).toEqual([30, 29, 28]);
    const since = new Date(now - 5_000).toISOString();
    const recent = await tracePage(tunnel.name, `?since=${since}`);
    expect(recent.rows.map((row) => row.id)).toEqual([30, 29, 28, 27, 26]);
    const until = await tracePage(tunnel.name, `?until=${now - 28_000}`);
    expect(until.rows.map((row) => row.id)).toEqual([2, 1]);
  });

  test("a page merges rows still buffered with stored ones, filters applied to both", async () => {
    const tunnel = await createTunnel();
    const seen = await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name), (_instance, state) => {
      const writes = new WriteBehind(state.storage);
      const traces = new TraceStore(state.storage.sql, writes);
      for (let i = 1; i <= 6; i++) traces.add({ ...callTrace(`m${i}`), server: i % 2 ? "odd" : "even" });
      writes.flush();
      for (let i = 7; i <= 10; i++) traces.add({ ...callTrace(`m${i}`), server: i % 2 ? "odd" : "even" });
      const stored = state.storage.sql.exec("SELECT count(*) AS n FROM traces").one().n;
      const first = traces.page({ server: "odd", limit: 3 });
      const second = traces.page({ server: "odd", limit: 3, before: Number(first.next) });
      return { stored, first, second };
    });
    expect(seen.stored).toBe(6);
    expect(seen.first.rows.map((row) => row.rpcMethod)).toEqual(["m9", "m7", "m5"]);
    expect(seen.first.next).toBe(5);
    expect(seen.second.rows.map((row) => row.rpcMethod)).toEqual(["m3", "m1"]);
    expect(seen.second.next).toBeNull();
  });

  test("bad queries are 400 with the field named", async () => {
    const tunnel = await createTunnel();
    for (const [query, field] of [
      ["?status=maybe", "status"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?before=abc", "before"],
      ["?since=yesterday", "since"],
      ["?colour=red", "colour"],
    ] as const) {
      const res = await admin("GET", `/admin/tunnels/${tunnel.name}/traces${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.text(), query).toContain(field);
    }
    const sessions = await admin("GET", `/admin/tunnels/${tunnel.name}/sessions?before=%%%`);
    expect(sessions.status).toBe(400);
    expect((await admin("GET", "/admin/tunnels/nope-never/traces")).status).toBe(404);
  });

  test("filters walk indexes, not the table", async () => {
    const tunnel = await createTunnel();
    await seed(tunnel.name, [{ at: Date.now() }]);
    const plans = await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name), (_instance, state) => {
      const plan = (query: string, ...params: unknown[]) =>
        state.storage.sql
          .exec(`EXPLAIN QUERY PLAN ${query}`, ...(params as string[]))
          .toArray()
          .map((row) => String(row.detail))
          .join("; ");
      return {
        server: plan("SELECT * FROM traces WHERE server = ? AND id < ? ORDER BY id DESC LIMIT 51", "a", 10),
        tool: plan("SELECT * FROM traces WHERE tool = ? ORDER BY id DESC LIMIT 51", "a"),
        session: plan("SELECT * FROM traces WHERE session_id = ? ORDER BY id DESC LIMIT 51", "a"),
        failed: plan(
          "SELECT * FROM traces WHERE (error IS NOT NULL OR status >= 400 OR status = 0) ORDER BY id DESC LIMIT 51",
        ),
        age: plan("DELETE FROM traces WHERE at < ?", 1),
        sessions: plan(
          "SELECT * FROM sessions WHERE (last_used_at, server, id) < (?, ?, ?) ORDER BY last_used_at DESC, server DESC, id DESC LIMIT 51",
          1,
          "a",
          "b",
        ),
      };
    });
    expect(plans.server).toContain("traces_by_server");
    expect(plans.tool).toContain("traces_by_tool");
    expect(plans.session).toContain("traces_by_session");
    expect(plans.failed).toContain("traces_failed");
    expect(plans.age).toContain("traces_by_at");
    expect(plans.sessions).toContain("sessions_by_use_key");
    for (const plan of Object.values(plans)) expect(plan).not.toMatch(/SCAN (traces|sessions)(?! USING)/);
  });
});

/**
 * Server time of the operator console's busiest pages for a tunnel holding 10,000 MCP sessions and
 * 100,000 audit-trail rows: the tunnel page, the sessions page (first and a deep page), the trace
 * page (newest, filtered, older) and the live poll. Timed inside workerd around the console's own
 * Hono app (routing, the relay's RPCs, rendering), as a signed-in operator; the numbers go to the
 * bench table, never into assertions.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { expect, test } from "vitest";
import { TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import type { ConsoleEnv } from "../../workers/env.ts";
import { consolePagesRoutes } from "../../workers/routes/console-pages.tsx";
import { percentile, summarise, timed } from "./record.ts";

const SESSIONS = 10_000;
const TRACES = 100_000;
const RUNS = 60;
const TUNNEL = `console-bench-${Date.now().toString(36)}`;

const app = new Hono<ConsoleEnv>();
app.use("*", async (c, next) => {
  c.set("operator", { kind: "admin-token" });
  c.set("csrfToken", "bench-csrf");
  await next();
});
app.route("/console", consolePagesRoutes);

async function get(path: string): Promise<string> {
  const res = await app.fetch(new Request(`http://edge${path}`), env);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
  return body;
}

test("console pages with 10,000 sessions and 100,000 trace rows", { timeout: 600_000 }, async ({ task }) => {
  const created = await exports.default.fetch("http://edge/admin/tunnels", {
    method: "POST",
    headers: { authorization: "Bearer bench-admin-token", "content-type": "application/json" },
    body: JSON.stringify({ name: TUNNEL }),
  });
  expect(created.status).toBe(201);
  const seedStarted = performance.now();
  // Seeded in SQL with a counter (the rows a busy tunnel would hold); a TraceStore instance made
  // here first, so the table and its indexes exist exactly as the relay creates them.
  const counts = await runInDurableObject(env.TUNNEL_RELAY.getByName(TUNNEL), (_instance, state) => {
    const sql = state.storage.sql;
    new TraceStore(sql, new WriteBehind(state.storage)).count();
    const now = Date.now();
    state.storage.transactionSync(() => {
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
         INSERT INTO sessions SELECT 'server-' || (i % 8), 'session-' || i, 'ag_bench', 'gw-bench', 'bench-client',
           '1.0.0', '2025-06-18', ? - i * 1000, ? - i * 1000 FROM n`,
        SESSIONS,
        now,
        now,
      );
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
         INSERT INTO traces (at, server, http_method, rpc_method, tool, session_id, gateway_id, token_id, status,
           duration_ms, bytes_in, bytes_out, error)
         SELECT ? - (? - i) * 10, 'server-' || (i % 8), 'POST', 'tools/call',
           CASE WHEN i % 1000 = 0 THEN 'rare-tool' ELSE 'tool-' || (i % 20) END, 'session-' || (i % ?), 'gw-bench',
           'ag_bench', CASE WHEN i % 50 = 0 THEN 502 ELSE 200 END, 1 + i % 40, 200, 800,
           CASE WHEN i % 50 = 0 THEN 'upstream failed' END
         FROM n`,
        TRACES,
        now,
        TRACES,
        SESSIONS,
      );
    });
    const count = (table: string) => sql.exec(`SELECT count(*) AS n FROM ${table}`).one().n as number;
    return { sessions: count("sessions"), traces: count("traces") };
  });
  expect(counts).toEqual({ sessions: SESSIONS, traces: TRACES });
  const seedMs = Math.round(performance.now() - seedStarted);

  const trace = await get(`/console/tunnels/${TUNNEL}/trace`);
  const older = olderPageLink(trace);
  const newest = Number(/data-last-id="(\d+)"/.exec(trace)?.[1]);
  // Each case must time the page it names, not the first page in its place.
  expect(older).toBeDefined();
  expect(Number.isFinite(newest)).toBe(true);
  const sessionsFirst = await get(`/console/tunnels/${TUNNEL}/sessions`);
  expect(sessionsFirst).toContain("session-0<");
  // A deep page: follow the cursor 20 pages in.
  let deep = `/console/tunnels/${TUNNEL}/sessions`;
  for (let i = 0; i < 20; i++) {
    const next = olderPageLink(await get(deep));
    expect(next, `sessions page ${i + 2}`).toBeDefined();
    deep = next as string;
  }
  const cases: Array<{ benchmark: string; path: string }> = [
    { benchmark: "tunnel page", path: `/console/tunnels/${TUNNEL}` },
    { benchmark: "sessions page (first)", path: `/console/tunnels/${TUNNEL}/sessions` },
    { benchmark: "sessions page (deep)", path: deep },
    { benchmark: "trace page (newest 50)", path: `/console/tunnels/${TUNNEL}/trace` },
    { benchmark: "trace page (older)", path: older as string },
    { benchmark: "trace page (tool=rare-tool)", path: `/console/tunnels/${TUNNEL}/trace?tool=rare-tool` },
    { benchmark: "trace page (status=error)", path: `/console/tunnels/${TUNNEL}/trace?status=error` },
    { benchmark: "live poll (nothing new)", path: `/console/tunnels/${TUNNEL}/trace.json?after=${newest}` },
  ];
  for (const c of cases) for (let i = 0; i < 5; i++) await get(c.path); // warm
  const samples = cases.map(() => [] as number[]);
  // Interleaved, so drift in the machine's load falls on every case alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [index, c] of cases.entries()) await timed(samples[index]!, () => get(c.path).then(() => {}));
  }
  task.meta.benchRows = cases.map((c, index) => {
    const times = samples[index]!;
    const meanMs = Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 100) / 100;
    return {
      benchmark: `console ${c.benchmark}`,
      sessions: SESSIONS,
      traces: TRACES,
      ...summarise(times),
      p99Ms: percentile(times, 0.99),
      meanMs,
      seedMs,
    };
  });
});

/** The pager's link to the next (older) page, as a path. */
function olderPageLink(html: string): string | undefined {
  return /<a href="([^"]+)" rel="next">/.exec(html)?.[1]?.replaceAll("&amp;", "&");
}

/**
 * Call metrics inside workerd: computed by the tunnel's and the sandbox's own objects from their
 * audit trails (stored rows and the write-behind buffer), and served by GET /admin/metrics as
 * JSON and Prometheus text.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { traceMetrics } from "../../durable-objects/tunnel-relay/trace-metrics.ts";
import { TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import type { SandboxMetrics, TunnelMetrics } from "../../src/audit/call-metrics.ts";
import { isFailedCall, tunnelMetrics, windowOf } from "../../src/audit/metrics-rollup.ts";
import { SORT_LIMIT } from "../../src/audit/trail-buckets.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { parsePrometheusText } from "../helpers/prometheus-parser.ts";
import { bash, createSandbox, runTool, sandboxStub } from "./sandbox-helpers.ts";
import { ADMIN_TOKEN, admin, callTrace, createTunnel, edgeFetch, jsonRpc, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const MINUTE = 60_000;

interface Row {
  at: number;
  httpMethod?: string;
  server?: string;
  tool?: string | null;
  status?: number;
  durationMs?: number;
  error?: string | null;
  bytesIn?: number;
  bytesOut?: number;
}

/** Writes rows straight into the tunnel's `traces` table, as flushed traces would be. */
async function insertTraces(tunnel: string, rows: Row[]): Promise<void> {
  await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel), (_instance, state) => {
    for (const row of rows) {
      state.storage.sql.exec(
        `INSERT INTO traces (at, server, http_method, rpc_method, tool, status, duration_ms, bytes_in, bytes_out, error)
         VALUES (?, ?, ?, 'tools/call', ?, ?, ?, ?, ?, ?)`,
        row.at,
        row.server ?? "files",
        row.httpMethod ?? "POST",
        row.tool === undefined ? "read" : row.tool,
        row.status ?? 200,
        row.durationMs ?? 10,
        row.bytesIn ?? 0,
        row.bytesOut ?? 0,
        row.error ?? null,
      );
    }
  });
}

async function metricsJson(query = ""): Promise<{
  at: number;
  windows: Record<string, number>;
  tunnels: TunnelMetrics[];
  sandboxes: SandboxMetrics[];
}> {
  const res = await admin("GET", `/admin/metrics${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe("TunnelRelay.metrics", () => {
  test("counts the calls of each window from the stored trail: older, future and GET-stream rows are left out", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    await insertTraces(tunnel.name, [
      { at: now - MINUTE, durationMs: 5, bytesIn: 10, bytesOut: 100 },
      { at: now - 2 * MINUTE, durationMs: 15, status: 502 },
      { at: now - 3 * MINUTE, server: "db", tool: null, durationMs: 1, error: "no gateway", status: 503 },
      { at: now - 30 * MINUTE, durationMs: 900, status: 0 },
      { at: now - 61 * MINUTE, durationMs: 7_000 },
      { at: now + MINUTE, durationMs: 7_000 },
      // An agent's event stream: open for minutes, not a call's latency.
      { at: now - MINUTE, httpMethod: "GET", tool: null, durationMs: 240_000 },
    ]);
    const metrics = await env.TUNNEL_RELAY.getByName(tunnel.name).metrics(now);
    if (!metrics.ok) throw new Error(metrics.error.message);
    const { windows, servers, tools } = metrics.value;
    expect(windows["5m"]).toEqual({ calls: 3, errors: 2, bytesIn: 10, bytesOut: 100, p50Ms: 5, p95Ms: 15, p99Ms: 15 });
    expect(windows["1h"]).toMatchObject({ calls: 4, errors: 3, p50Ms: 5, p99Ms: 900 });
    expect(servers.map((s) => [s.server, s.windows["5m"].calls, s.windows["1h"].calls])).toEqual([
      ["db", 1, 1],
      ["files", 2, 3],
    ]);
    expect(tools.map((t) => [t.server, t.tool, t.windows["1h"].calls])).toEqual([["files", "read", 3]]);
  });

  test(`past ${SORT_LIMIT} calls in the window (read through the covering index) the figures are the same as computed call by call`, async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    const rows: Row[] = Array.from({ length: SORT_LIMIT + 1_500 }, (_, i) => ({
      at: now - ((i * 7_919) % (70 * MINUTE)),
      server: ["files", "db"][i % 2],
      tool: ["read", "write", null][i % 3],
      httpMethod: i % 31 === 0 ? "GET" : "POST",
      status: i % 41 === 0 ? 500 : i % 97 === 0 ? 0 : 200,
      durationMs: i % 13 === 0 ? 400 + (i % 900) : i % 37,
      error: i % 53 === 0 ? "boom" : null,
      bytesIn: i % 5,
      bytesOut: i % 11,
    }));
    await insertTraces(tunnel.name, rows);
    const expected = tunnelMetrics(
      tunnel.name,
      rows.flatMap((row) => {
        const window = windowOf(row.at, now);
        const failed = isFailedCall({ status: row.status ?? 200, error: row.error ?? null });
        return window === null || row.httpMethod === "GET"
          ? []
          : [
              {
                server: row.server ?? "files",
                tool: row.tool === undefined ? "read" : row.tool,
                window,
                durationMs: row.durationMs ?? 10,
                calls: 1,
                errors: failed ? 1 : 0,
                bytesIn: row.bytesIn ?? 0,
                bytesOut: row.bytesOut ?? 0,
              },
            ];
      }),
    );
    expect(expected.windows["1h"].calls).toBeGreaterThan(SORT_LIMIT);
    const metrics = await env.TUNNEL_RELAY.getByName(tunnel.name).metrics(now);
    expect(metrics).toEqual({ ok: true, value: expected });
  });

  test("rows still in the write-behind buffer count at once; the indexes the reads use are made", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    await insertTraces(tunnel.name, [{ at: now - MINUTE, durationMs: 20 }]);
    const seen = await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name), (_instance, state) => {
      const sql = state.storage.sql;
      const traces = new TraceStore(sql, new WriteBehind(state.storage));
      traces.add({ ...callTrace("tools/call", now - 10_000), tool: "read", server: "files", durationMs: 40 });
      traces.add({ ...callTrace("tools/call", now - 2 * 60 * MINUTE), tool: "read", server: "files" });
      traces.add({ ...callTrace("tools/call", now - 5_000), httpMethod: "GET", durationMs: 90_000 });
      const metrics = traceMetrics(sql, traces, tunnel.name, now);
      const stored = sql.exec("SELECT count(*) AS n FROM traces").one().n;
      const indexes = sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'traces' AND name LIKE 'traces_%'")
        .toArray()
        .map((row) => String(row.name))
        .sort();
      return { metrics, stored, indexes };
    });
    expect(seen.stored).toBe(1);
    expect(seen.metrics.windows["5m"]).toMatchObject({ calls: 2, p50Ms: 20, p99Ms: 40 });
    expect(seen.metrics.tools).toEqual([{ server: "files", tool: "read", windows: seen.metrics.windows }]);
    expect(seen.indexes).toEqual(expect.arrayContaining(["traces_by_at", "traces_metrics"]));
  });

  test("a relayed call shows in the metrics as soon as it is answered", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await gateway.answerCall(
      tunnel,
      jsonRpc("tools/call", { name: "shout", arguments: {} }),
      '{"jsonrpc":"2.0","id":1,"result":{}}',
    );
    const { tunnels } = await metricsJson(`?tunnel=${tunnel.name}`);
    expect(tunnels).toHaveLength(1);
    expect(tunnels[0]?.tools.map((t) => [t.server, t.tool, t.windows["5m"].calls, t.windows["5m"].errors])).toEqual([
      ["echo", "shout", 1, 0],
    ]);
    gateway.close();
  });
});

describe("Sandbox.metrics", () => {
  test("per tool from the sandbox's trace, failed results counted as errors; null for no sandbox", async () => {
    const sandbox = await createSandbox();
    await bash(sandbox, "echo hi");
    await bash(sandbox, "ls");
    await runTool(sandbox, "read", { path: "/workspace/missing.txt" });
    const metrics = await sandboxStub(sandbox.id).metrics();
    expect(metrics?.sandbox).toBe(sandbox.id);
    expect(metrics?.windows["5m"]).toMatchObject({ calls: 3, errors: 1, bytesIn: 0 });
    expect(metrics?.tools.map((t) => [t.tool, t.windows["5m"].calls, t.windows["5m"].errors])).toEqual([
      ["bash", 2, 0],
      ["read", 1, 1],
    ]);
    expect(metrics?.windows["5m"].bytesOut).toBeGreaterThan(0);
    expect(await sandboxStub(`never-${crypto.randomUUID().slice(0, 8)}`).metrics()).toBeNull();
  });
});

describe("GET /admin/metrics", () => {
  test("JSON by default, with every tunnel and sandbox the Registry lists; filters narrow it", async () => {
    const tunnel = await createTunnel();
    const sandbox = await createSandbox();
    await bash(sandbox, "true");
    await insertTraces(tunnel.name, [{ at: Date.now() - MINUTE }]);
    const everything = await metricsJson();
    expect(everything.windows).toEqual({ "5m": 300_000, "1h": 3_600_000 });
    expect(everything.tunnels.map((t) => t.tunnel)).toContain(tunnel.name);
    expect(everything.sandboxes.map((s) => s.sandbox)).toContain(sandbox.id);

    const oneTunnel = await metricsJson(`?tunnel=${tunnel.name}`);
    expect([oneTunnel.tunnels.map((t) => t.tunnel), oneTunnel.sandboxes]).toEqual([[tunnel.name], []]);
    expect(oneTunnel.tunnels[0]?.windows["5m"].calls).toBe(1);
    const oneSandbox = await metricsJson(`?sandbox=${sandbox.id}`);
    expect([oneSandbox.tunnels, oneSandbox.sandboxes.map((s) => s.sandbox)]).toEqual([[], [sandbox.id]]);
  });

  test("Prometheus text for ?format=prometheus and for scrapers' Accept header; JSON when JSON is asked", async () => {
    const tunnel = await createTunnel();
    await insertTraces(tunnel.name, [{ at: Date.now() - MINUTE, durationMs: 250 }]);
    for (const [query, accept] of [
      [`?tunnel=${tunnel.name}&format=prometheus`, "*/*"],
      [
        `?tunnel=${tunnel.name}`,
        "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1",
      ],
      [`?tunnel=${tunnel.name}`, "text/plain"],
    ] as const) {
      const res = await edgeFetch(`/admin/metrics${query}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const families = parsePrometheusText(await res.text());
      const p50 = families
        .get("tether_tunnel_tool_call_duration_seconds")
        ?.samples.find((s) => s.labels.window === "5m" && s.labels.quantile === "0.5");
      expect(p50).toEqual({
        name: "tether_tunnel_tool_call_duration_seconds",
        labels: { tunnel: tunnel.name, server: "files", tool: "read", window: "5m", quantile: "0.5" },
        value: 0.25,
      });
    }
    const json = await edgeFetch(`/admin/metrics?tunnel=${tunnel.name}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "application/json, text/plain" },
    });
    expect(json.headers.get("content-type")).toContain("application/json");
  });

  test("refusals: no or a wrong admin token 401, an unknown tunnel or sandbox 404, a bad query 400", async () => {
    expect((await edgeFetch("/admin/metrics")).status).toBe(401);
    expect((await edgeFetch("/admin/metrics", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    const missingTunnel = await admin("GET", "/admin/metrics?tunnel=no-such-tunnel-here");
    expect(missingTunnel.status).toBe(404);
    expect((await admin("GET", "/admin/metrics?tunnel=Not_A_Name")).status).toBe(404);
    expect((await admin("GET", "/admin/metrics?sandbox=no-such-sandbox")).status).toBe(404);
    const badFormat = await admin("GET", "/admin/metrics?format=xml");
    expect(badFormat.status).toBe(400);
    expect(await badFormat.text()).toContain("format");
    const unknown = await admin("GET", "/admin/metrics?windw=5m");
    expect(unknown.status).toBe(400);
  });
});

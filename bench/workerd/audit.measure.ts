/**
 * What the audit trail costs, measured inside workerd next to the code (the numbers go to the
 * bench table, never into assertions; the checks only make sure the thing timed is the thing meant):
 *
 * (a) A relayed tools/call (edge route → TunnelRelay → a gateway played over a real WebSocket →
 *     back) with the trace recorded as usual, beside the same call with recording switched off in
 *     the same run (`TraceStore.prototype.add` replaced by a no-op for that arm: the module is
 *     the one the object runs), interleaved in blocks so machine drift falls on both alike. The
 *     difference is everything the trail adds to a call, the write-behind flushes included. Next
 *     to it, the two halves in isolation: `add` (on the call's path: a push into memory) per row,
 *     and the flush (off the call's path: up to 100 rows in one transaction, at most once a second)
 *     per batch.
 * (b) GET /admin/metrics?tunnel=… with 100,000 trace rows in the tunnel: all within 5 minutes,
 *     spread over the hour, and 100,000 rows of which 1,000 fall in the hour (a long trail).
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, test } from "vitest";
import { TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { type CreatedTunnel, callTrace, JSON_HEADERS, jsonRpc, POST_JSON } from "../../test/workers/tunnel-fixtures.ts";
import { SimGateway } from "../../test/workers/tunnel-sim-gateway.ts";
import { percentile, summarise, timed } from "./record.ts";

const ADMIN = "bench-admin-token";
const BLOCKS = 20;
const CALLS_PER_BLOCK = 100;
const WARM_CALLS = 50;

async function createTunnel(name: string): Promise<CreatedTunnel> {
  const res = await exports.default.fetch("http://edge/admin/tunnels", {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedTunnel;
}

function mean(times: number[]): number {
  return Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 1000) / 1000;
}

test("(a) the audit trail's cost to a relayed call", async ({ task }) => {
  const tunnel = await createTunnel(`audit-${Date.now().toString(36)}`);
  const gateway = await SimGateway.connect(tunnel);
  // The gateway answers every call at once, from its own loop.
  let answering = true;
  const answers = (async () => {
    while (answering) {
      const opened = await gateway.nextRequest().catch(() => null);
      if (!opened) continue;
      gateway.respond(opened.stream, 200, JSON_HEADERS, '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}');
    }
  })();
  const body = jsonRpc("tools/call", { name: "echo", arguments: { message: "hi" } });
  const call = async () => {
    const res = await exports.default.fetch(`http://edge/t/${tunnel.name}/echo/mcp`, {
      method: "POST",
      headers: { ...POST_JSON, authorization: `Bearer ${tunnel.agentToken}` },
      body,
    });
    if (res.status !== 200) throw new Error(`call: ${res.status}`);
    await res.arrayBuffer();
  };
  // Metrics read once first: the trail's indexes exist from then on, and every trace row written
  // afterwards maintains them (their cost is part of the flush measured below).
  const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
  if (!(await stub.metrics()).ok) throw new Error("metrics failed");
  const record = TraceStore.prototype.add;
  const arms = { recorded: [] as number[], "not recorded": [] as number[] };
  try {
    for (let i = 0; i < WARM_CALLS; i++) await call(); // warm (recorded)
    for (let block = 0; block < BLOCKS; block++) {
      for (const arm of block % 2 === 0
        ? (["recorded", "not recorded"] as const)
        : (["not recorded", "recorded"] as const)) {
        TraceStore.prototype.add = arm === "recorded" ? record : () => {};
        for (let i = 0; i < CALLS_PER_BLOCK; i++) await timed(arms[arm], call);
      }
    }
  } finally {
    TraceStore.prototype.add = record;
    answering = false;
  }
  const metrics = await stub.metrics();
  if (!metrics.ok) throw new Error(metrics.error.message);
  // Exactly the recorded arm's calls and the warm-up's: the "not recorded" arm really recorded nothing.
  expect(metrics.value.tools.find((t) => t.tool === "echo")?.windows["1h"].calls).toBe(
    WARM_CALLS + BLOCKS * CALLS_PER_BLOCK,
  );
  gateway.close();
  await answers.catch(() => {});
  // The relay's last rows reach SQLite first (a sessions page flushes its buffer): the stores made
  // below number their rows after what is stored, and must not take ids still held in a buffer.
  if (!(await stub.sessions({ limit: 1 })).ok) throw new Error("sessions failed");

  // The halves in isolation, in the object: add() per row, and the flush per batch of 100 rows.
  const isolated = await runInDurableObject(stub, async (_instance, state) => {
    const rows = 100_000;
    const emptyStart = performance.now();
    await scheduler.wait(1);
    const empty = performance.now() - emptyStart;
    const addRows = async (writes: WriteBehind) => {
      const traces = new TraceStore(state.storage.sql, writes);
      const start = performance.now();
      for (let i = 0; i < rows; i++) traces.add({ ...callTrace("tools/call"), tool: "echo", durationMs: i % 50 });
      await scheduler.wait(1);
      const ms = performance.now() - start - empty;
      traces.clearPending();
      return ms / rows;
    };
    // Memory only: a write-behind that never writes (what the call itself runs).
    const memoryOnly = await addRows({ add() {}, buffered() {} } as unknown as WriteBehind);
    // With the real write-behind: a flush of 100 rows every 100 adds, amortized over them.
    const amortized = await addRows(new WriteBehind(state.storage));
    const flushes: number[] = [];
    const writes = new WriteBehind(state.storage);
    const flushed = new TraceStore(state.storage.sql, writes);
    for (let batch = 0; batch < 50; batch++) {
      for (let i = 0; i < 99; i++) flushed.add({ ...callTrace("tools/call"), tool: "echo" });
      const start = performance.now();
      writes.flush();
      await scheduler.wait(1);
      flushes.push(performance.now() - start - empty);
    }
    return { memoryOnly, amortized, flushes };
  });
  const relayed = (arm: keyof typeof arms) => ({
    benchmark: `(a) relayed tools/call, trace ${arm}`,
    ...summarise(arms[arm]),
    p99Ms: percentile(arms[arm], 0.99),
    meanMs: mean(arms[arm]),
  });
  const recorded = relayed("recorded");
  const off = relayed("not recorded");
  task.meta.benchRows = [
    recorded,
    off,
    {
      benchmark: "(a) difference (recorded − not recorded)",
      p50Ms: Math.round((recorded.p50Ms - off.p50Ms) * 100) / 100,
      p99Ms: Math.round((recorded.p99Ms - off.p99Ms) * 100) / 100,
      meanMs: Math.round((recorded.meanMs - off.meanMs) * 1000) / 1000,
    },
    {
      benchmark: "(a) TraceStore.add per row, in memory (the call's own part; mean of 100,000)",
      meanMs: Math.round(isolated.memoryOnly * 10_000) / 10_000,
    },
    {
      benchmark: "(a) TraceStore.add per row with its flushes (100 rows each) amortized (mean of 100,000)",
      meanMs: Math.round(isolated.amortized * 10_000) / 10_000,
    },
    {
      benchmark: "(a) flush of 99 buffered rows, off the call's path (one transaction)",
      ...summarise(isolated.flushes),
      meanMs: mean(isolated.flushes),
    },
  ];
});

/** Seeds `rows` traces ending `newestAgoMs` before now and `spanMs` apart from first to last. */
async function seed(tunnel: string, rows: number, newestAgoMs: number, spanMs: number): Promise<void> {
  const now = Date.now();
  await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel), (_instance, state) => {
    const sql = state.storage.sql;
    const servers = ["files", "db", "search"];
    const tools = ["read", "write", "list", "query", "find", null];
    // 7 rows per statement: the bound-parameter limit is 100.
    for (let start = 0; start < rows; start += 7) {
      const values: Array<string | number | null> = [];
      const count = Math.min(7, rows - start);
      for (let i = start; i < start + count; i++) {
        const at = now - newestAgoMs - Math.floor((spanMs * i) / rows);
        // A long-tailed spread of durations: most calls a few ms, some hundreds, a few seconds.
        const durationMs = i % 100 === 0 ? 1000 + (i % 3000) : i % 10 === 0 ? 100 + (i % 400) : 1 + (i % 30);
        const status = i % 50 === 0 ? 502 : 200;
        values.push(at, servers[i % 3] ?? "files", tools[i % 6] ?? null, status, durationMs, 200, 1500);
      }
      sql.exec(
        `INSERT INTO traces (at, server, http_method, rpc_method, tool, status, duration_ms, bytes_in, bytes_out)
         VALUES ${new Array(count).fill("(?, ?, 'POST', 'tools/call', ?, ?, ?, ?, ?)").join(", ")}`,
        ...values,
      );
    }
  });
}

test("(b) GET /admin/metrics with 100,000 trace rows in a tunnel", async ({ task }) => {
  const cases = [
    { name: "100,000 rows, all in the last 5 min", rows: 100_000, newestAgoMs: 0, spanMs: 4 * 60_000, in5m: 100_000 },
    { name: "100,000 rows spread over the hour", rows: 100_000, newestAgoMs: 0, spanMs: 59 * 60_000, in5m: null },
    {
      name: "100,000 rows over 100 h (1,000 in the hour)",
      rows: 100_000,
      newestAgoMs: 0,
      spanMs: 100 * 3_600_000,
      in5m: null,
    },
  ];
  const rows = [];
  for (const c of cases) {
    const name = `metrics-${Date.now().toString(36)}-${rows.length}`;
    await createTunnel(name);
    await seed(name, c.rows, c.newestAgoMs, c.spanMs);
    const fetchMetrics = async (format: string) => {
      const res = await exports.default.fetch(`http://edge/admin/metrics?tunnel=${name}${format}`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      if (res.status !== 200) throw new Error(`metrics: ${res.status}`);
      return res.text();
    };
    // The first call creates the index over `at` (once per tunnel): timed on its own.
    const first: number[] = [];
    await timed(first, async () => void (await fetchMetrics("")));
    const json = JSON.parse(await fetchMetrics("")) as {
      tunnels: Array<{ windows: Record<string, { calls: number }> }>;
    };
    const windows = json.tunnels[0]?.windows;
    if (c.in5m !== null) expect(windows?.["5m"]?.calls).toBe(c.in5m);
    const jsonTimes: number[] = [];
    const textTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      await timed(jsonTimes, async () => void (await fetchMetrics("")));
      await timed(textTimes, async () => void (await fetchMetrics("&format=prometheus")));
    }
    rows.push(
      { benchmark: `(b) ${c.name}: first call (builds the index)`, p50Ms: Math.round((first[0] ?? 0) * 100) / 100 },
      {
        benchmark: `(b) ${c.name}: JSON (1h calls ${windows?.["1h"]?.calls})`,
        ...summarise(jsonTimes),
        meanMs: mean(jsonTimes),
      },
      { benchmark: `(b) ${c.name}: Prometheus text`, ...summarise(textTimes), meanMs: mean(textTimes) },
    );
  }
  task.meta.benchRows = rows;
});

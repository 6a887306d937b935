/**
 * The tunnel's call metrics (src/audit/call-metrics.ts) from its audit trail, the `traces` table
 * (./storage.ts), plus the rows still in the write-behind buffer (./trace-store.ts).
 *
 * SQLite hands over a histogram (one row per server, tool and duration in ms, with sums per
 * window), never every call: see src/audit/trail-buckets.ts for the two ways it is read and the
 * indexes (`traces_by_at`, `traces_metrics`) created for them.
 *
 * Agents' GET requests are left out: they open server-to-client event streams that stay open for
 * minutes, so their "duration" is a connection's lifetime, not a call's latency, and would swamp
 * every percentile of the tunnel and its servers.
 */
import type { TunnelMetrics } from "../../src/audit/call-metrics.ts";
import {
  type CallBucket,
  FAILED_CALL_SQL,
  isFailedCall,
  tunnelMetrics,
  windowOf,
} from "../../src/audit/metrics-rollup.ts";
import { storedBuckets, type TrailTable } from "../../src/audit/trail-buckets.ts";
import type { TraceStore } from "./trace-store.ts";

const TRACES: TrailTable = {
  table: "traces",
  select: "server, tool",
  groupBy: "server, tool, duration_ms",
  columns: { failed: FAILED_CALL_SQL, bytesIn: "bytes_in", bytesOut: "bytes_out" },
  include: "http_method <> 'GET'",
  byAt: "traces_by_at",
  covering: "traces_metrics",
  indexes: [
    "CREATE INDEX IF NOT EXISTS traces_by_at ON traces (at)",
    `CREATE INDEX IF NOT EXISTS traces_metrics ON traces
       (server, tool, duration_ms, at, http_method, status, bytes_in, bytes_out, (error IS NOT NULL))`,
  ],
};

export function traceMetrics(sql: SqlStorage, traces: TraceStore, tunnel: string, now: number): TunnelMetrics {
  const buffered: CallBucket[] = [];
  for (const trace of traces.buffered()) {
    const window = windowOf(trace.at, now);
    if (window === null || trace.httpMethod === "GET") continue;
    buffered.push({
      server: trace.server,
      tool: trace.tool,
      window,
      durationMs: trace.durationMs,
      calls: 1,
      errors: isFailedCall(trace) ? 1 : 0,
      bytesIn: trace.bytesIn,
      bytesOut: trace.bytesOut,
    });
  }
  return tunnelMetrics(tunnel, [...storedBuckets(sql, TRACES, now), ...buffered]);
}

/**
 * The tunnel's call metrics (src/audit/call-metrics.ts) from its audit trail, the `traces` table
 * (./storage.ts), plus the rows still in the write-behind buffer (./trace-store.ts).
 *
 * Cost: one indexed range scan on `at` over the longest window, grouped in SQLite by (server,
 * tool, window, duration in ms), so the object receives a histogram (a few hundred rows for 100,000
 * calls) rather than every call; src/audit/metrics-rollup.ts turns it into percentiles. The index
 * `traces_by_at` is created here, idempotently, so tables of tunnels created before it get it too.
 */
import type { TunnelMetrics } from "../../src/audit/call-metrics.ts";
import {
  type CallBucket,
  FAILED_CALL_SQL,
  isFailedCall,
  tunnelMetrics,
  windowOf,
  windowQuery,
} from "../../src/audit/metrics-rollup.ts";
import { all, ensureSchema } from "../../src/storage/sql.ts";
import type { TraceStore } from "./trace-store.ts";

const INDEX = ["CREATE INDEX IF NOT EXISTS traces_by_at ON traces (at)"];

export function traceMetrics(sql: SqlStorage, traces: TraceStore, tunnel: string, now: number): TunnelMetrics {
  ensureSchema(sql, INDEX);
  const { since, until, windowSql, windowParams } = windowQuery(now);
  const stored = all<CallBucket>(
    sql,
    `SELECT server, tool, ${windowSql} AS window, duration_ms AS durationMs, count(*) AS calls,
       sum(${FAILED_CALL_SQL}) AS errors, sum(bytes_in) AS bytesIn, sum(bytes_out) AS bytesOut
     FROM traces WHERE at >= ? AND at <= ?
     GROUP BY server, tool, window, duration_ms`,
    ...windowParams,
    since,
    until,
  );
  const buffered: CallBucket[] = [];
  for (const trace of traces.buffered()) {
    const window = windowOf(trace.at, now);
    if (window === null) continue;
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
  return tunnelMetrics(tunnel, [...stored, ...buffered]);
}

/**
 * The sandbox's call metrics (src/audit/call-metrics.ts) from its tool-call trace, the
 * `sandbox_trace` table (./trace.ts), plus the entries still in the write-behind buffer.
 *
 * The same shape of query as the tunnel's (durable-objects/tunnel-relay/trace-metrics.ts): an
 * indexed range on `at`, grouped by (tool, window, duration in ms) in SQLite. A failed call is one
 * whose result was an error. Only the result's size is recorded, so `bytesIn` stays 0.
 */
import type { SandboxMetrics } from "../../src/audit/call-metrics.ts";
import { type CallBucket, sandboxMetrics, windowOf, windowQuery } from "../../src/audit/metrics-rollup.ts";
import { all, ensureSchema, first } from "../../src/storage/sql.ts";
import type { TraceLog } from "./trace.ts";

const INDEX = ["CREATE INDEX IF NOT EXISTS sandbox_trace_by_at ON sandbox_trace (at)"];

export function sandboxTraceMetrics(sql: SqlStorage, trace: TraceLog, sandbox: string, now: number): SandboxMetrics {
  const { since, until, windowSql, windowParams } = windowQuery(now);
  const stored = hasTraceTable(sql) ? storedBuckets(sql, windowSql, [...windowParams, since, until]) : [];
  const buffered: CallBucket[] = [];
  for (const entry of trace.buffered()) {
    const window = windowOf(entry.at, now);
    if (window === null) continue;
    buffered.push({
      server: "",
      tool: entry.tool,
      window,
      durationMs: entry.durationMs,
      calls: 1,
      errors: entry.error === null ? 0 : 1,
      bytesIn: 0,
      bytesOut: entry.bytes,
    });
  }
  return sandboxMetrics(sandbox, [...stored, ...buffered]);
}

function storedBuckets(sql: SqlStorage, windowSql: string, params: number[]): CallBucket[] {
  ensureSchema(sql, INDEX);
  return all<CallBucket>(
    sql,
    `SELECT '' AS server, tool, ${windowSql} AS window, duration_ms AS durationMs, count(*) AS calls,
       sum(error IS NOT NULL) AS errors, 0 AS bytesIn, sum(bytes) AS bytesOut
     FROM sandbox_trace WHERE at >= ? AND at <= ?
     GROUP BY tool, window, duration_ms`,
    ...params,
  );
}

/** A sandbox's table is made at creation; asking about a sandbox must not create it. */
function hasTraceTable(sql: SqlStorage): boolean {
  return first(sql, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sandbox_trace'") !== undefined;
}

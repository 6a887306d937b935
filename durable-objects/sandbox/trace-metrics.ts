/**
 * The sandbox's call metrics (src/audit/call-metrics.ts) from its tool-call trace, the
 * `sandbox_trace` table (./trace.ts), plus the entries still in the write-behind buffer.
 *
 * Read like the tunnel's (src/audit/trail-buckets.ts). A failed call is one whose result was an
 * error. Only the result's size is recorded, so `bytesIn` stays 0.
 */
import type { SandboxMetrics } from "../../src/audit/call-metrics.ts";
import { type CallBucket, sandboxMetrics, windowOf } from "../../src/audit/metrics-rollup.ts";
import { storedBuckets, type TrailTable } from "../../src/audit/trail-buckets.ts";
import type { TraceLog } from "./trace.ts";

const SANDBOX_TRACE: TrailTable = {
  table: "sandbox_trace",
  select: "'' AS server, tool",
  groupBy: "tool, duration_ms",
  columns: { failed: "(error IS NOT NULL)", bytesIn: "0", bytesOut: "bytes" },
  include: "1",
  byAt: "sandbox_trace_by_at",
  covering: "sandbox_trace_metrics",
  indexes: [
    "CREATE INDEX IF NOT EXISTS sandbox_trace_by_at ON sandbox_trace (at)",
    `CREATE INDEX IF NOT EXISTS sandbox_trace_metrics ON sandbox_trace
       (tool, duration_ms, at, bytes, (error IS NOT NULL))`,
  ],
};

export function sandboxTraceMetrics(sql: SqlStorage, trace: TraceLog, sandbox: string, now: number): SandboxMetrics {
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
  // The caller asks only about a sandbox that exists, whose trail's tables init() makes (once).
  trace.init();
  return sandboxMetrics(sandbox, [...storedBuckets(sql, SANDBOX_TRACE, now), ...buffered]);
}

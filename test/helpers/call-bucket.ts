import type { CallBucket } from "../../src/audit/metrics-rollup.ts";

/** One aggregated bucket of calls, with defaults for what a test does not care about. */
export function callBucket(partial: Partial<CallBucket>): CallBucket {
  return {
    server: "files",
    tool: null,
    window: "5m",
    durationMs: 10,
    calls: 1,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
    ...partial,
  };
}

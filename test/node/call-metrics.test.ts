/**
 * The arithmetic of call metrics (src/audit/): nearest-rank percentiles from a histogram, windows
 * that nest, and grouping per tunnel/server/tool and sandbox/tool.
 */
import { describe, expect, test } from "vitest";
import { METRIC_WINDOWS } from "../../src/audit/call-metrics.ts";
import { LatencyHistogram } from "../../src/audit/latency-histogram.ts";
import {
  bucketsOf,
  isFailedCall,
  sandboxMetrics,
  tunnelMetrics,
  windowedAggregates,
  windowOf,
} from "../../src/audit/metrics-rollup.ts";
import { callBucket } from "../helpers/call-bucket.ts";

describe("LatencyHistogram", () => {
  test("nearest-rank percentiles of 1..100 ms are 50, 95, 99, and every one is a duration a call took", () => {
    const histogram = new LatencyHistogram();
    for (let ms = 100; ms >= 1; ms--) histogram.add(ms);
    expect(histogram.percentiles([50, 95, 99, 100])).toEqual([50, 95, 99, 100]);
    expect(histogram.total).toBe(100);
  });

  test("counts per duration weigh as many calls, in any order of the asked percentiles", () => {
    const histogram = new LatencyHistogram();
    histogram.add(5, 98);
    histogram.add(700, 1);
    histogram.add(2_000, 1);
    expect(histogram.percentiles([99, 50, 95])).toEqual([700, 5, 5]);
    expect(histogram.percentiles([100])).toEqual([2_000]);
  });

  test("one call is every percentile; no call is null; zero counts are ignored", () => {
    const histogram = new LatencyHistogram();
    expect(histogram.percentiles([50, 99])).toEqual([null, null]);
    histogram.add(3, 0);
    expect(histogram.percentiles([50])).toEqual([null]);
    histogram.add(42);
    expect(histogram.percentiles([1, 50, 99])).toEqual([42, 42, 42]);
  });

  test("stays exact for 100,000 calls given as a few hundred buckets", () => {
    const histogram = new LatencyHistogram();
    // 1000 calls at each of 0..99 ms: the p-th percentile of 100,000 calls ends inside bucket p-1.
    for (let ms = 0; ms < 100; ms++) histogram.add(ms, 1000);
    expect(histogram.percentiles([50, 95, 99])).toEqual([49, 94, 98]);
  });
});

describe("windows", () => {
  const now = 10_000_000;

  test("a call falls in its shortest window; older or future calls in none", () => {
    expect(windowOf(now, now)).toBe("5m");
    expect(windowOf(now - METRIC_WINDOWS["5m"], now)).toBe("5m");
    expect(windowOf(now - METRIC_WINDOWS["5m"] - 1, now)).toBe("1h");
    expect(windowOf(now - METRIC_WINDOWS["1h"], now)).toBe("1h");
    expect(windowOf(now - METRIC_WINDOWS["1h"] - 1, now)).toBeNull();
    expect(windowOf(now + 1, now)).toBeNull();
  });

  test("one aggregate query serves every window: the range is the longest, the shorter ones are conditional sums", () => {
    const query = windowedAggregates(now, { failed: "F", bytesIn: "bi", bytesOut: "bo" });
    expect([query.since, query.until]).toEqual([now - METRIC_WINDOWS["1h"], now]);
    expect(query.columns).toBe(
      "count(*) AS calls, sum(F) AS errors, sum(bi) AS bytesIn, sum(bo) AS bytesOut, " +
        "sum(at >= ?) AS calls_0, sum((at >= ?) AND F) AS errors_0, " +
        "sum(CASE WHEN at >= ? THEN bi ELSE 0 END) AS bytesIn_0, sum(CASE WHEN at >= ? THEN bo ELSE 0 END) AS bytesOut_0",
    );
    expect(query.params).toEqual(new Array(4).fill(now - METRIC_WINDOWS["5m"]));
  });

  test("an aggregate row splits into a bucket per window its calls started in (none for an empty window)", () => {
    const row = { server: "s", tool: "t", durationMs: 7, calls: 5, errors: 2, bytesIn: 50, bytesOut: 500 };
    expect(bucketsOf({ ...row, calls_0: 3, errors_0: 1, bytesIn_0: 30, bytesOut_0: 300 })).toEqual([
      { server: "s", tool: "t", window: "5m", durationMs: 7, calls: 3, errors: 1, bytesIn: 30, bytesOut: 300 },
      { server: "s", tool: "t", window: "1h", durationMs: 7, calls: 2, errors: 1, bytesIn: 20, bytesOut: 200 },
    ]);
    expect(bucketsOf({ ...row, calls_0: 0, errors_0: 0, bytesIn_0: 0, bytesOut_0: 0 }).map((b) => b.window)).toEqual([
      "1h",
    ]);
    expect(bucketsOf({ ...row, calls_0: 5, errors_0: 2, bytesIn_0: 50, bytesOut_0: 500 }).map((b) => b.window)).toEqual(
      ["5m"],
    );
  });

  test("a failed call: an error text, a status of 400 or more, or no answer", () => {
    expect(isFailedCall({ status: 200, error: null })).toBe(false);
    expect(isFailedCall({ status: 399, error: null })).toBe(false);
    expect(isFailedCall({ status: 400, error: null })).toBe(true);
    expect(isFailedCall({ status: 0, error: null })).toBe(true);
    expect(isFailedCall({ status: 200, error: "upstream said no" })).toBe(true);
  });
});

describe("tunnelMetrics", () => {
  test("sums into every window that holds the calls, per tunnel, server and server+tool", () => {
    const metrics = tunnelMetrics("acme", [
      callBucket({ server: "files", tool: "read", durationMs: 10, calls: 3, bytesIn: 30, bytesOut: 300 }),
      callBucket({ server: "files", tool: "read", window: "1h", durationMs: 50, calls: 1, errors: 1, bytesIn: 5 }),
      callBucket({ server: "files", tool: null, durationMs: 2, calls: 2 }),
      callBucket({ server: "db", tool: "query", durationMs: 100, calls: 4, errors: 2, bytesOut: 40 }),
    ]);
    expect(metrics.tunnel).toBe("acme");
    expect(metrics.windows["5m"]).toEqual({
      calls: 9,
      errors: 2,
      bytesIn: 30,
      bytesOut: 340,
      p50Ms: 10,
      p95Ms: 100,
      p99Ms: 100,
    });
    expect(metrics.windows["1h"]).toMatchObject({ calls: 10, errors: 3, bytesIn: 35, p50Ms: 10 });
    expect(metrics.servers.map((s) => [s.server, s.windows["5m"].calls, s.windows["1h"].calls])).toEqual([
      ["db", 4, 4],
      ["files", 5, 6],
    ]);
    // Only tools/call calls have a tool row.
    expect(metrics.tools.map((t) => [t.server, t.tool, t.windows["5m"].calls, t.windows["1h"].calls])).toEqual([
      ["db", "query", 4, 4],
      ["files", "read", 3, 4],
    ]);
    const read = metrics.tools.find((t) => t.tool === "read");
    expect(read?.windows["5m"]).toMatchObject({ p50Ms: 10, p99Ms: 10, errors: 0 });
    expect(read?.windows["1h"]).toMatchObject({ p50Ms: 10, p99Ms: 50, errors: 1 });
  });

  test("a key seen only in the longer window shows zeros and null percentiles in the shorter", () => {
    const metrics = tunnelMetrics("acme", [callBucket({ server: "old", window: "1h", durationMs: 7 })]);
    expect(metrics.servers[0]?.windows["5m"]).toEqual({
      calls: 0,
      errors: 0,
      bytesIn: 0,
      bytesOut: 0,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
    });
    expect(metrics.servers[0]?.windows["1h"]).toMatchObject({ calls: 1, p50Ms: 7 });
  });

  test("no calls: every window empty, no servers or tools", () => {
    const metrics = tunnelMetrics("quiet", []);
    expect(metrics).toEqual({
      tunnel: "quiet",
      windows: {
        "5m": { calls: 0, errors: 0, bytesIn: 0, bytesOut: 0, p50Ms: null, p95Ms: null, p99Ms: null },
        "1h": { calls: 0, errors: 0, bytesIn: 0, bytesOut: 0, p50Ms: null, p95Ms: null, p99Ms: null },
      },
      servers: [],
      tools: [],
    });
  });

  test("tool names that look alike on different servers stay apart", () => {
    const metrics = tunnelMetrics("acme", [
      callBucket({ server: "a", tool: "b,c" }),
      callBucket({ server: "a,b", tool: "c" }),
    ]);
    expect(metrics.tools.map((t) => [t.server, t.tool])).toEqual([
      ["a", "b,c"],
      ["a,b", "c"],
    ]);
  });
});

describe("sandboxMetrics", () => {
  test("per sandbox and per tool, sorted by tool", () => {
    const metrics = sandboxMetrics("sb-1", [
      callBucket({ server: "", tool: "bash", durationMs: 30, calls: 2, errors: 1, bytesOut: 64 }),
      callBucket({ server: "", tool: "read", window: "1h", durationMs: 1 }),
    ]);
    expect(metrics.sandbox).toBe("sb-1");
    expect(metrics.windows["5m"]).toMatchObject({ calls: 2, errors: 1, bytesOut: 64, p50Ms: 30 });
    expect(metrics.windows["1h"]).toMatchObject({ calls: 3, errors: 1, p50Ms: 30, p99Ms: 30 });
    expect(metrics.tools.map((t) => [t.tool, t.windows["1h"].calls])).toEqual([
      ["bash", 2],
      ["read", 1],
    ]);
  });
});

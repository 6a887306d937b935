/**
 * Turns the audit trail's grouped rows into call metrics (./call-metrics.ts): per tunnel, server
 * and tool, or per sandbox and tool, over each rolling window. Pure: the Durable Objects run the
 * SQL this module writes (./trail-buckets.ts: grouped by key and duration, summed per window) and
 * add the rows still in their write-behind buffers; this module does the arithmetic, so it is
 * tested in Node.
 */
import {
  METRIC_WINDOWS,
  type MetricWindow,
  type SandboxMetrics,
  type TunnelMetrics,
  type Windowed,
  type WindowStats,
} from "./call-metrics.ts";
import { LatencyHistogram } from "./latency-histogram.ts";

/** The windows, shortest first: a call in a shorter window is in every longer one too. */
export const WINDOWS_ASCENDING = (Object.keys(METRIC_WINDOWS) as MetricWindow[]).sort(
  (a, b) => METRIC_WINDOWS[a] - METRIC_WINDOWS[b],
);
const LONGEST: MetricWindow = WINDOWS_ASCENDING.at(-1) ?? "1h";

/** Calls of one key that started in the same window (its shortest) and took the same whole milliseconds. */
export interface CallBucket {
  /** The tunnel's upstream server ("" for a sandbox). */
  server: string;
  /** The tool of a `tools/call` (null for other calls). */
  tool: string | null;
  /** The shortest window the calls started in. */
  window: MetricWindow;
  durationMs: number;
  calls: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
}

/** A failed call: a status of 400 or more, no answer at all (status 0), or an error text. */
export function isFailedCall(call: { status: number; error: string | null }): boolean {
  return call.error !== null || call.status >= 400 || call.status === 0;
}

/** The same test in SQL, over the columns `status` and `error` (`error IS NOT NULL` is what covering indexes hold). */
export const FAILED_CALL_SQL = "((error IS NOT NULL) OR status >= 400 OR status = 0)";

/** The shortest window a call started at `at` falls in, or null when it is older than all (or in the future). */
export function windowOf(at: number, now: number): MetricWindow | null {
  if (at > now) return null;
  return WINDOWS_ASCENDING.find((window) => at >= now - METRIC_WINDOWS[window]) ?? null;
}

/** SQL expressions of one call's figures in the table being read. */
export interface CallColumns {
  failed: string;
  bytesIn: string;
  bytesOut: string;
}

/**
 * The SQL that sums calls per group over the longest window and, with conditional sums, over each
 * shorter one, so one pass (and one GROUP BY, which an index can deliver in order) serves every
 * window: `since`/`until` bound `at`; `columns` (with `params` bound first, in order) are the
 * aggregates, read back by `bucketsOf`.
 */
export function windowedAggregates(
  now: number,
  call: CallColumns,
): { since: number; until: number; columns: string; params: number[] } {
  const shorter = WINDOWS_ASCENDING.slice(0, -1);
  const columns = [
    `count(*) AS calls, sum(${call.failed}) AS errors, sum(${call.bytesIn}) AS bytesIn, sum(${call.bytesOut}) AS bytesOut`,
    ...shorter.map(
      (_, i) =>
        `sum(at >= ?) AS calls_${i}, sum((at >= ?) AND ${call.failed}) AS errors_${i}, ` +
        `sum(CASE WHEN at >= ? THEN ${call.bytesIn} ELSE 0 END) AS bytesIn_${i}, ` +
        `sum(CASE WHEN at >= ? THEN ${call.bytesOut} ELSE 0 END) AS bytesOut_${i}`,
    ),
  ].join(", ");
  const params = shorter.flatMap((window) => new Array<number>(4).fill(now - METRIC_WINDOWS[window]));
  return { since: now - METRIC_WINDOWS[LONGEST], until: now, columns, params };
}

/** A row of `windowedAggregates`' query: the group and its sums, total and per shorter window (`calls_0`, ...). */
export interface AggregateRow {
  server: string;
  tool: string | null;
  durationMs: number;
  [sum: string]: string | number | null;
}

/** Splits an aggregate row into one bucket per window the calls started in (their shortest). */
export function bucketsOf(row: AggregateRow): CallBucket[] {
  const figures = ["calls", "errors", "bytesIn", "bytesOut"] as const;
  const cumulative = WINDOWS_ASCENDING.map((_, i) =>
    figures.map((figure) => Number((i === WINDOWS_ASCENDING.length - 1 ? row[figure] : row[`${figure}_${i}`]) ?? 0)),
  );
  const buckets: CallBucket[] = [];
  WINDOWS_ASCENDING.forEach((window, i) => {
    const [calls = 0, errors = 0, bytesIn = 0, bytesOut = 0] =
      cumulative[i]?.map((value, f) => value - (i === 0 ? 0 : (cumulative[i - 1]?.[f] ?? 0))) ?? [];
    if (calls > 0) {
      buckets.push({
        server: row.server,
        tool: row.tool,
        window,
        durationMs: row.durationMs,
        calls,
        errors,
        bytesIn,
        bytesOut,
      });
    }
  });
  return buckets;
}

/** Sums buckets into every window that contains them. */
export class WindowedStats {
  readonly #windows = new Map<
    MetricWindow,
    { stats: Omit<WindowStats, "p50Ms" | "p95Ms" | "p99Ms">; latency: LatencyHistogram }
  >(
    WINDOWS_ASCENDING.map((window) => [
      window,
      { stats: { calls: 0, errors: 0, bytesIn: 0, bytesOut: 0 }, latency: new LatencyHistogram() },
    ]),
  );

  add(bucket: CallBucket): void {
    const from = WINDOWS_ASCENDING.indexOf(bucket.window);
    for (const window of WINDOWS_ASCENDING.slice(from)) {
      const entry = this.#windows.get(window);
      if (!entry) continue;
      entry.stats.calls += bucket.calls;
      entry.stats.errors += bucket.errors;
      entry.stats.bytesIn += bucket.bytesIn;
      entry.stats.bytesOut += bucket.bytesOut;
      entry.latency.add(bucket.durationMs, bucket.calls);
    }
  }

  windowed(): Windowed {
    const result = {} as Windowed;
    for (const window of WINDOWS_ASCENDING) {
      const entry = this.#windows.get(window);
      const stats = entry?.stats ?? { calls: 0, errors: 0, bytesIn: 0, bytesOut: 0 };
      const [p50Ms = null, p95Ms = null, p99Ms = null] = entry?.latency.percentiles([50, 95, 99]) ?? [];
      result[window] = { ...stats, p50Ms, p95Ms, p99Ms };
    }
    return result;
  }
}

/** Metrics of one tunnel: overall, per server (every call), per server and tool (`tools/call` only). */
export function tunnelMetrics(tunnel: string, buckets: Iterable<CallBucket>): TunnelMetrics {
  const total = new WindowedStats();
  const servers = new Map<string, WindowedStats>();
  const tools = new Map<string, { server: string; tool: string; stats: WindowedStats }>();
  for (const bucket of buckets) {
    total.add(bucket);
    statsFor(servers, bucket.server, () => new WindowedStats()).add(bucket);
    if (bucket.tool !== null) {
      const { tool, server } = bucket;
      statsFor(tools, JSON.stringify([server, tool]), () => ({ server, tool, stats: new WindowedStats() })).stats.add(
        bucket,
      );
    }
  }
  return {
    tunnel,
    windows: total.windowed(),
    servers: [...servers.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([server, stats]) => ({ server, windows: stats.windowed() })),
    tools: [...tools.values()]
      .sort((a, b) => compare(a.server, b.server) || compare(a.tool, b.tool))
      .map(({ server, tool, stats }) => ({ server, tool, windows: stats.windowed() })),
  };
}

/** Metrics of one sandbox: overall and per tool. */
export function sandboxMetrics(sandbox: string, buckets: Iterable<CallBucket>): SandboxMetrics {
  const total = new WindowedStats();
  const tools = new Map<string, WindowedStats>();
  for (const bucket of buckets) {
    total.add(bucket);
    statsFor(tools, bucket.tool ?? "", () => new WindowedStats()).add(bucket);
  }
  return {
    sandbox,
    windows: total.windowed(),
    tools: [...tools.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([tool, stats]) => ({ tool, windows: stats.windowed() })),
  };
}

function statsFor<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Code-point order, the same in every locale (labels and table rows stay stable). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

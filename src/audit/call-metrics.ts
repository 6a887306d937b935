/**
 * The shape of call metrics, computed from the audit trail's rows (tunnel calls and sandbox tool
 * calls) over rolling windows. Served by `GET /admin/metrics` (JSON and Prometheus text), shown by
 * the console and `tether inspect`.
 */
export const METRIC_WINDOWS = { "5m": 5 * 60_000, "1h": 60 * 60_000 } as const;
export type MetricWindow = keyof typeof METRIC_WINDOWS;

export interface WindowStats {
  calls: number;
  /** Calls that failed: a status of 400 or more, no answer at all, or an error text / is_error. */
  errors: number;
  /** Latency percentiles in milliseconds; null without calls. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  bytesIn: number;
  bytesOut: number;
}

export type Windowed = Record<MetricWindow, WindowStats>;

export interface TunnelMetrics {
  tunnel: string;
  windows: Windowed;
  servers: Array<{ server: string; windows: Windowed }>;
  tools: Array<{ server: string; tool: string; windows: Windowed }>;
}

export interface SandboxMetrics {
  sandbox: string;
  windows: Windowed;
  tools: Array<{ tool: string; windows: Windowed }>;
}

/** Call metrics as the console shows them: rate, error rate and latency percentiles per window. */
import { METRIC_WINDOWS, type MetricWindow, type Windowed } from "../../audit/call-metrics.ts";
import { formatMs, formatPercent, formatRate, UNKNOWN } from "../format.ts";

export const METRIC_COLUMNS = [
  { label: "Calls/min (5 min)", num: true },
  { label: "Error rate (5 min)", num: true },
  { label: "p50 / p99 (5 min)", num: true },
  { label: "p50 / p99 (1 h)", num: true },
];

export function latency(windows: Windowed | null, window: MetricWindow): string {
  if (!windows) return UNKNOWN;
  const stats = windows[window];
  return `${formatMs(stats.p50Ms)} / ${formatMs(stats.p99Ms)}`;
}

export function callRate(windows: Windowed | null, window: MetricWindow): string {
  return windows ? formatRate(windows[window].calls, METRIC_WINDOWS[window]) : UNKNOWN;
}

export function errorRate(windows: Windowed | null, window: MetricWindow): string {
  return windows ? formatPercent(windows[window].errors, windows[window].calls) : UNKNOWN;
}

/** The four metric cells of a list row, in METRIC_COLUMNS' order. */
export function MetricCells(props: { windows: Windowed | null }) {
  return (
    <>
      <td class="num">{callRate(props.windows, "5m")}</td>
      <td class="num">{errorRate(props.windows, "5m")}</td>
      <td class="num">{latency(props.windows, "5m")}</td>
      <td class="num">{latency(props.windows, "1h")}</td>
    </>
  );
}

/** The headline figures of one tunnel or sandbox, as a description list. */
export function StatsList(props: { items: Array<[string, string | number]> }) {
  return (
    <dl class="stats">
      {props.items.map(([label, value]) => (
        <div>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * Call metrics (./call-metrics.ts) in the Prometheus text exposition format 0.0.4, for scrapers of
 * `GET /admin/metrics?format=prometheus`.
 *
 * Every figure is a snapshot over a rolling window, so every family is a `gauge` with a `window`
 * label ("5m", "1h"); the latency families add a `quantile` label ("0.5", "0.95", "0.99") and are
 * in seconds, as Prometheus wants. (A `summary` would promise a monotonic `_count`/`_sum`, which
 * windowed figures are not.) A quantile of a window without calls has no sample. Each level of
 * grouping has its own families (`tether_tunnel_*`, `tether_tunnel_server_*`, `tether_tunnel_tool_*`,
 * `tether_sandbox_*`, `tether_sandbox_tool_*`), so summing one family never counts a call twice.
 */
import type { SandboxMetrics, TunnelMetrics, Windowed } from "./call-metrics.ts";
import { WINDOWS_ASCENDING } from "./metrics-rollup.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Array<[name: string, value: string]>;

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Labels; value: number }>;
}

interface Level {
  prefix: string;
  what: string;
  rows: Array<{ labels: Labels; windows: Windowed }>;
  /** Sandboxes record only the result's size. */
  requestBytes: boolean;
}

const QUANTILES = [
  ["0.5", "p50Ms"],
  ["0.95", "p95Ms"],
  ["0.99", "p99Ms"],
] as const;

export function prometheusText(tunnels: readonly TunnelMetrics[], sandboxes: readonly SandboxMetrics[]): string {
  const levels: Level[] = [
    {
      prefix: "tether_tunnel",
      what: "relayed calls per tunnel",
      rows: tunnels.map((t) => ({ labels: [["tunnel", t.tunnel]], windows: t.windows })),
      requestBytes: true,
    },
    {
      prefix: "tether_tunnel_server",
      what: "relayed calls per tunnel and upstream server",
      rows: tunnels.flatMap((t) =>
        t.servers.map((s) => ({
          labels: [
            ["tunnel", t.tunnel],
            ["server", s.server],
          ] as Labels,
          windows: s.windows,
        })),
      ),
      requestBytes: true,
    },
    {
      prefix: "tether_tunnel_tool",
      what: "tools/call calls per tunnel, upstream server and tool",
      rows: tunnels.flatMap((t) =>
        t.tools.map((x) => ({
          labels: [
            ["tunnel", t.tunnel],
            ["server", x.server],
            ["tool", x.tool],
          ] as Labels,
          windows: x.windows,
        })),
      ),
      requestBytes: true,
    },
    {
      prefix: "tether_sandbox",
      what: "tool calls per sandbox",
      rows: sandboxes.map((s) => ({ labels: [["sandbox", s.sandbox]], windows: s.windows })),
      requestBytes: false,
    },
    {
      prefix: "tether_sandbox_tool",
      what: "tool calls per sandbox and tool",
      rows: sandboxes.flatMap((s) =>
        s.tools.map((x) => ({
          labels: [
            ["sandbox", s.sandbox],
            ["tool", x.tool],
          ] as Labels,
          windows: x.windows,
        })),
      ),
      requestBytes: false,
    },
  ];
  return levels.flatMap(levelFamilies).map(renderFamily).join("");
}

function levelFamilies(level: Level): Family[] {
  const per = (pick: (stats: Windowed[keyof Windowed]) => number) =>
    level.rows.flatMap((row) =>
      WINDOWS_ASCENDING.map((window) => ({
        labels: [...row.labels, ["window", window]] as Labels,
        value: pick(row.windows[window]),
      })),
    );
  const families: Family[] = [
    {
      name: `${level.prefix}_calls`,
      help: `Calls that started in the window: ${level.what}.`,
      samples: per((s) => s.calls),
    },
    {
      name: `${level.prefix}_errors`,
      help: `Calls in the window that failed (status >= 400, no answer, or an error): ${level.what}.`,
      samples: per((s) => s.errors),
    },
    {
      name: `${level.prefix}_call_duration_seconds`,
      help: `Latency quantiles (nearest rank) of the calls in the window: ${level.what}.`,
      samples: level.rows.flatMap((row) =>
        WINDOWS_ASCENDING.flatMap((window) =>
          QUANTILES.flatMap(([quantile, key]) => {
            const ms = row.windows[window][key];
            return ms === null
              ? []
              : [{ labels: [...row.labels, ["window", window], ["quantile", quantile]] as Labels, value: ms / 1000 }];
          }),
        ),
      ),
    },
  ];
  if (level.requestBytes) {
    families.push({
      name: `${level.prefix}_request_bytes`,
      help: `Bytes of the requests in the window: ${level.what}.`,
      samples: per((s) => s.bytesIn),
    });
  }
  families.push({
    name: `${level.prefix}_response_bytes`,
    help: `Bytes of the responses in the window: ${level.what}.`,
    samples: per((s) => s.bytesOut),
  });
  return families;
}

function renderFamily(family: Family): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`];
  for (const sample of family.samples) {
    const labels = sample.labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",");
    lines.push(`${family.name}{${labels}} ${formatValue(sample.value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** HELP text: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** Label values: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

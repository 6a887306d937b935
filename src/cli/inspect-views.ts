/**
 * What `tether inspect` prints: tables built from the admin API's answers (./inspect-command.ts
 * fetches them). Secrets never reach here: the admin API returns none (token ids, not tokens;
 * variable names, not values).
 */

import type { SandboxDetails, SandboxSummary } from "../../durable-objects/sandbox/status.ts";
import type { TunnelDetail, TunnelSummary } from "../../durable-objects/tunnel-relay/admin-view.ts";
import {
  METRIC_WINDOWS,
  type MetricWindow,
  type SandboxMetrics,
  type TunnelMetrics,
  type Windowed,
} from "../audit/call-metrics.ts";
import {
  type Column,
  formatAge,
  formatBytes,
  formatErrorRate,
  formatMs,
  formatRate,
  renderTable,
  section,
} from "./table.ts";

export interface MetricsAnswer {
  at: number;
  tunnels: TunnelMetrics[];
  sandboxes: SandboxMetrics[];
}

export interface ApiTokenJson {
  id: string;
  label: string;
  created_at: string;
  revoked_at: string | null;
  backends: string[];
}

const SHORT: MetricWindow = "5m";

/** Calls/min, error rate, p50 and p99 of the short window: the overview's figures. */
const RATE_COLUMNS: Column[] = [
  { header: "CALLS/MIN", right: true },
  { header: "ERRORS", right: true },
  { header: "P50", right: true },
  { header: "P99", right: true },
];

function rateCells(windows: Windowed | undefined): string[] {
  const stats = windows?.[SHORT];
  if (!stats) return ["-", "-", "-", "-"];
  return [
    formatRate(stats.calls, METRIC_WINDOWS[SHORT]),
    formatErrorRate(stats.errors, stats.calls),
    formatMs(stats.p50Ms),
    formatMs(stats.p99Ms),
  ];
}

export function overviewView(
  tunnels: TunnelSummary[],
  sandboxes: SandboxSummary[],
  metrics: MetricsAnswer,
  now: number,
): string {
  const byTunnel = new Map(metrics.tunnels.map((m) => [m.tunnel, m.windows]));
  const bySandbox = new Map(metrics.sandboxes.map((m) => [m.sandbox, m.windows]));
  return [
    section(
      `Tunnels (figures over the last ${SHORT})`,
      renderTable(
        [
          { header: "NAME" },
          { header: "STATUS" },
          { header: "GATEWAYS", right: true },
          { header: "SESSIONS", right: true },
          ...RATE_COLUMNS,
          { header: "SERVERS" },
        ],
        tunnels.map((t) => [
          t.name,
          t.gateways > 0 ? "up" : "down",
          String(t.gateways),
          String(t.sessions),
          ...rateCells(byTunnel.get(t.name)),
          t.servers.join(", "),
        ]),
      ),
    ),
    sandboxesTable(sandboxes, bySandbox, now),
  ].join("\n\n");
}

export function sandboxesView(sandboxes: SandboxSummary[], metrics: MetricsAnswer, now: number): string {
  return sandboxesTable(sandboxes, new Map(metrics.sandboxes.map((m) => [m.sandbox, m.windows])), now);
}

function sandboxesTable(sandboxes: SandboxSummary[], metrics: Map<string, Windowed>, now: number): string {
  return section(
    `Sandboxes (figures over the last ${SHORT})`,
    renderTable(
      [
        { header: "ID" },
        { header: "BACKEND" },
        { header: "SIZE", right: true },
        { header: "QUOTA", right: true },
        { header: "LAST ACTIVITY" },
        { header: "EXPIRES" },
        ...RATE_COLUMNS,
      ],
      sandboxes.map((s) => [
        s.id,
        backendLabel(s),
        formatBytes(s.size_bytes),
        formatBytes(s.quota_bytes),
        formatAge(s.last_activity, now),
        formatAge(s.expires_at, now),
        ...rateCells(metrics.get(s.id)),
      ]),
    ),
  );
}

function backendLabel(sandbox: SandboxSummary): string {
  return sandbox.backend.type === "edge" ? "edge" : `gateway ${sandbox.backend.tunnel}/${sandbox.backend.executor}`;
}

export function tunnelView(detail: TunnelDetail, metrics: TunnelMetrics | undefined, now: number): string {
  const servers = detail.gateways.flatMap((g) => g.servers.map((s) => ({ ...s, gateway: g.id })));
  return [
    `Tunnel ${detail.name} (created ${formatAge(detail.createdAt, now)}; allowed origins: ${
      detail.settings.allowedOrigins.join(", ") || "none"
    }; SSE keep-alive ${formatMs(detail.settings.sseKeepAliveMs)})`,
    `Audit trail: kept ${detail.settings.audit.retentionDays} days, at most ${detail.settings.audit.maxRows.toLocaleString(
      "en-US",
    )} rows; payloads ${detail.settings.audit.payloads ? "stored (redacted)" : "not stored"}`,
    section(
      "Gateways",
      renderTable(
        [
          { header: "ID" },
          { header: "VERSION" },
          { header: "CONNECTED" },
          { header: "IN-FLIGHT", right: true },
          { header: "DRAINING" },
          { header: "TOKEN" },
        ],
        detail.gateways.map((g) => [
          g.id,
          g.version,
          formatAge(g.connectedAt, now),
          String(g.inFlight),
          g.draining ?? "no",
          g.tokenId,
        ]),
      ),
    ),
    section(
      "Servers",
      renderTable(
        [{ header: "NAME" }, { header: "KIND" }, { header: "GATEWAY" }, { header: "ALLOWED PATHS" }],
        servers.map((s) => [s.name, s.kind, s.gateway, s.allowPaths.join(", ") || "-"]),
      ),
    ),
    section(
      "Tokens",
      renderTable(
        [{ header: "ID" }, { header: "ROLE" }, { header: "CREATED" }, { header: "LAST USED" }, { header: "REVOKED" }],
        detail.tokens.map((t) => [
          t.id,
          t.role,
          formatAge(t.createdAt, now),
          t.lastUsedAt === null || t.lastUsedAt === undefined ? "never" : formatAge(t.lastUsedAt, now),
          t.revokedAt === null ? "-" : formatAge(t.revokedAt, now),
        ]),
      ),
    ),
    section(
      "Sessions",
      renderTable(
        [
          { header: "ID" },
          { header: "SERVER" },
          { header: "CLIENT" },
          { header: "PROTOCOL" },
          { header: "TOKEN" },
          { header: "GATEWAY" },
          { header: "LAST USE" },
        ],
        detail.sessions.map((s) => [
          s.id,
          s.server,
          [s.clientName, s.clientVersion].filter((part) => part !== null).join(" ") || "-",
          s.protocolVersion ?? "-",
          s.tokenId,
          `${s.gatewayId}${s.gatewayConnected ? "" : " (gone)"}`,
          formatAge(s.lastUsedAt, now),
        ]),
      ),
    ),
    section(
      "Recent calls",
      renderTable(
        [
          { header: "AT" },
          { header: "SERVER" },
          { header: "METHOD" },
          { header: "TOOL" },
          { header: "STATUS", right: true },
          { header: "DURATION", right: true },
          { header: "IN", right: true },
          { header: "OUT", right: true },
          { header: "ERROR" },
        ],
        detail.traces.map((t) => [
          formatAge(t.at, now),
          t.server,
          t.rpcMethod ?? t.httpMethod,
          t.tool ?? "-",
          String(t.status),
          formatMs(t.durationMs),
          formatBytes(t.bytesIn),
          formatBytes(t.bytesOut),
          t.error ?? "",
        ]),
      ),
    ),
    tunnelMetricsView(metrics ? [metrics] : []),
  ].join("\n\n");
}

export function sandboxView(details: SandboxDetails, metrics: SandboxMetrics | undefined, now: number): string {
  const lines = [
    `Sandbox ${details.id} (${backendLabel(details)}; created ${formatAge(details.created_at, now)}; last activity ${formatAge(
      details.last_activity,
      now,
    )}; expires ${formatAge(details.expires_at, now)})`,
    `Size ${formatBytes(details.size_bytes)} in ${details.file_count ?? "-"} files; stored ${formatBytes(
      details.stored_bytes,
    )} of ${formatBytes(details.quota_bytes)}; calls running or queued: ${details.busy}`,
  ];
  if (details.shell) {
    lines.push(
      `Shell: cwd ${details.shell.cwd}; variables: ${details.shell.variables.join(", ") || "-"}; functions: ${
        details.shell.functions.join(", ") || "-"
      }`,
    );
  }
  if (details.gateway) {
    const g = details.gateway;
    lines.push(
      `Gateway: ${g.gateway_id ?? "-"} (${g.connected ? "connected" : "not connected"}); workspace ${
        g.workspace_bytes === null ? (g.workspace_error ?? "-") : formatBytes(g.workspace_bytes)
      }`,
    );
  }
  return [
    lines.join("\n"),
    section(
      "Recent tool calls",
      renderTable(
        [
          { header: "AT" },
          { header: "TOOL" },
          { header: "TOOL USE ID" },
          { header: "DURATION", right: true },
          { header: "BYTES", right: true },
          { header: "ERROR" },
        ],
        details.trace.map((t) => [
          formatAge(t.at, now),
          t.tool,
          t.tool_use_id,
          formatMs(t.duration_ms),
          formatBytes(t.bytes),
          t.error ?? "",
        ]),
      ),
    ),
    sandboxMetricsView(metrics ? [metrics] : []),
  ].join("\n\n");
}

export function tokensView(tokens: ApiTokenJson[], now: number): string {
  return section(
    "API tokens",
    renderTable(
      [{ header: "ID" }, { header: "LABEL" }, { header: "BACKENDS" }, { header: "CREATED" }, { header: "REVOKED" }],
      tokens.map((t) => [
        t.id,
        t.label,
        t.backends.join(", "),
        formatAge(t.created_at, now),
        t.revoked_at === null ? "-" : formatAge(t.revoked_at, now),
      ]),
    ),
  );
}

/** Both windows, one row per key and window. */
const WINDOW_COLUMNS: Column[] = [
  { header: "WINDOW" },
  { header: "CALLS", right: true },
  { header: "CALLS/MIN", right: true },
  { header: "ERRORS", right: true },
  { header: "P50", right: true },
  { header: "P95", right: true },
  { header: "P99", right: true },
  { header: "IN", right: true },
  { header: "OUT", right: true },
];

function windowRows(key: string[], windows: Windowed): string[][] {
  return (Object.keys(METRIC_WINDOWS) as MetricWindow[]).map((window) => {
    const s = windows[window];
    return [
      ...key,
      window,
      String(s.calls),
      formatRate(s.calls, METRIC_WINDOWS[window]),
      `${s.errors} (${formatErrorRate(s.errors, s.calls)})`,
      formatMs(s.p50Ms),
      formatMs(s.p95Ms),
      formatMs(s.p99Ms),
      formatBytes(s.bytesIn),
      formatBytes(s.bytesOut),
    ];
  });
}

export function tunnelMetricsView(tunnels: TunnelMetrics[]): string {
  return [
    section(
      "Metrics per tunnel",
      renderTable(
        [{ header: "TUNNEL" }, ...WINDOW_COLUMNS],
        tunnels.flatMap((t) => windowRows([t.tunnel], t.windows)),
      ),
    ),
    section(
      "Metrics per server",
      renderTable(
        [{ header: "TUNNEL" }, { header: "SERVER" }, ...WINDOW_COLUMNS],
        tunnels.flatMap((t) => t.servers.flatMap((s) => windowRows([t.tunnel, s.server], s.windows))),
      ),
    ),
    section(
      "Metrics per tool",
      renderTable(
        [{ header: "TUNNEL" }, { header: "SERVER" }, { header: "TOOL" }, ...WINDOW_COLUMNS],
        tunnels.flatMap((t) => t.tools.flatMap((x) => windowRows([t.tunnel, x.server, x.tool], x.windows))),
      ),
    ),
  ].join("\n\n");
}

export function sandboxMetricsView(sandboxes: SandboxMetrics[]): string {
  return [
    section(
      "Metrics per sandbox",
      renderTable(
        [{ header: "SANDBOX" }, ...WINDOW_COLUMNS],
        sandboxes.flatMap((s) => windowRows([s.sandbox], s.windows)),
      ),
    ),
    section(
      "Metrics per sandbox tool",
      renderTable(
        [{ header: "SANDBOX" }, { header: "TOOL" }, ...WINDOW_COLUMNS],
        sandboxes.flatMap((s) => s.tools.flatMap((x) => windowRows([s.sandbox, x.tool], x.windows))),
      ),
    ),
  ].join("\n\n");
}

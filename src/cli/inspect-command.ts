/**
 * `tether inspect [tunnel NAME | sandboxes | sandbox ID | tokens | metrics]`: what operators see in
 * the console, as tables in a terminal (or the admin API's JSON with --json), read-only. The
 * tables are built in ./inspect-views.ts from GET /admin/tunnels, /admin/sandboxes,
 * /admin/tokens and /admin/metrics.
 */

import { parseArgs } from "node:util";
import type { SandboxDetails, SandboxSummary } from "../../durable-objects/sandbox/status.ts";
import type { TunnelDetail, TunnelSummary } from "../../durable-objects/tunnel-relay/admin-view.ts";
import { adminApiFrom, adminConnectionOptions } from "./admin-connection.ts";
import {
  type ApiTokenJson,
  type MetricsAnswer,
  overviewView,
  sandboxesView,
  sandboxMetricsView,
  sandboxView,
  tokensView,
  tunnelMetricsView,
  tunnelView,
} from "./inspect-views.ts";
import { UsageError } from "./usage-error.ts";

const USAGE = `Usage:
  tether inspect                 tunnels (status, gateways, calls/min, errors, p50/p99 over 5 min) and sandboxes
  tether inspect tunnel NAME     gateways, servers, tokens (ids only), sessions, recent calls, metrics
  tether inspect sandboxes       sandboxes: backend, size, quota, activity, expiry, calls
  tether inspect sandbox ID      a sandbox's figures, shell state names, recent tool calls, metrics
  tether inspect tokens          API tokens (ids and labels, never secrets)
  tether inspect metrics [--tunnel NAME] [--sandbox ID]   calls, errors, p50/p95/p99, bytes over 5 min and 1 h
Options:
  --edge URL --admin-token T     or TETHER_EDGE and TETHER_ADMIN_TOKEN
  --json                         print the admin API's JSON instead of tables`;

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...adminConnectionOptions(),
      json: { type: "boolean", default: false },
      tunnel: { type: "string" },
      sandbox: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [view = "overview", name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  if ((values.tunnel !== undefined || values.sandbox !== undefined) && view !== "metrics") {
    throw new UsageError("--tunnel and --sandbox go with `tether inspect metrics`");
  }
  const needName = (what: string): string => {
    if (!name) throw new UsageError(`tether inspect ${view} needs a ${what}`);
    return encodeURIComponent(name);
  };
  const noName = () => {
    if (name !== undefined) throw new UsageError(`tether inspect ${view} takes no argument (got "${name}")`);
  };
  // Checked before the edge and token, so a mistyped view is named as such.
  if (!VIEWS.has(view)) throw new UsageError(`unknown view "${view}"\n${USAGE}`);
  const api = adminApiFrom(values);
  const get = <T>(path: string) => api.call("GET", path) as Promise<T>;
  const now = Date.now();
  const show = (json: unknown, table: () => string): number => {
    console.log(values.json ? JSON.stringify(json, null, 2) : table());
    return 0;
  };

  switch (view) {
    case "overview": {
      noName();
      const [tunnels, sandboxes, metrics] = await Promise.all([
        get<{ tunnels: TunnelSummary[] }>("/admin/tunnels"),
        get<{ sandboxes: SandboxSummary[] }>("/admin/sandboxes"),
        get<MetricsAnswer>("/admin/metrics"),
      ]);
      return show({ tunnels: tunnels.tunnels, sandboxes: sandboxes.sandboxes, metrics }, () =>
        overviewView(tunnels.tunnels, sandboxes.sandboxes, metrics, now),
      );
    }
    case "tunnel": {
      const tunnel = needName("tunnel NAME");
      const [detail, metrics] = await Promise.all([
        get<TunnelDetail>(`/admin/tunnels/${tunnel}`),
        get<MetricsAnswer>(`/admin/metrics?tunnel=${tunnel}`),
      ]);
      const own = metrics.tunnels[0];
      return show({ tunnel: detail, metrics: own ?? null }, () => tunnelView(detail, own, now));
    }
    case "sandboxes": {
      noName();
      const [sandboxes, metrics] = await Promise.all([
        get<{ sandboxes: SandboxSummary[] }>("/admin/sandboxes"),
        get<MetricsAnswer>("/admin/metrics"),
      ]);
      return show({ sandboxes: sandboxes.sandboxes, metrics: metrics.sandboxes }, () =>
        sandboxesView(sandboxes.sandboxes, metrics, now),
      );
    }
    case "sandbox": {
      const id = needName("sandbox ID");
      const [details, metrics] = await Promise.all([
        get<SandboxDetails>(`/admin/sandboxes/${id}`),
        get<MetricsAnswer>(`/admin/metrics?sandbox=${id}`),
      ]);
      const own = metrics.sandboxes[0];
      return show({ sandbox: details, metrics: own ?? null }, () => sandboxView(details, own, now));
    }
    case "tokens": {
      noName();
      const { tokens } = await get<{ tokens: ApiTokenJson[] }>("/admin/tokens");
      return show({ tokens }, () => tokensView(tokens, now));
    }
    default: {
      noName();
      const query = new URLSearchParams();
      if (values.tunnel !== undefined) query.set("tunnel", values.tunnel);
      if (values.sandbox !== undefined) query.set("sandbox", values.sandbox);
      const metrics = await get<MetricsAnswer>(`/admin/metrics${query.size > 0 ? `?${query}` : ""}`);
      return show(metrics, () =>
        [tunnelMetricsView(metrics.tunnels), sandboxMetricsView(metrics.sandboxes)].join("\n\n"),
      );
    }
  }
}

const VIEWS = new Set(["overview", "tunnel", "sandboxes", "sandbox", "tokens", "metrics"]);

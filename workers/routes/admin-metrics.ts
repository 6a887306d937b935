/**
 * Call metrics for operators and scrapers (admin token only):
 *
 *   GET /admin/metrics[?tunnel=NAME][&sandbox=ID][&format=json|prometheus]
 *
 * JSON by default: {at, windows: {"5m": ms, "1h": ms}, tunnels: TunnelMetrics[], sandboxes:
 * SandboxMetrics[]} (src/audit/call-metrics.ts). `format=prometheus`, or an Accept header asking
 * for text/plain (or OpenMetrics, as Prometheus itself does) and not JSON, gives the Prometheus
 * text format 0.0.4 (src/audit/prometheus-text.ts). Without filters every tunnel and sandbox the
 * Registry lists is included; with `tunnel` and/or `sandbox` only those named (404 when missing).
 * Each object computes its own figures from its audit trail (durable-objects/*\/trace-metrics.ts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../durable-objects/registry.ts";
import { noSuchSandbox } from "../../durable-objects/sandbox/caller.ts";
import { mapLimited } from "../../src/async/map-limited.ts";
import { METRIC_WINDOWS, type SandboxMetrics, type TunnelMetrics } from "../../src/audit/call-metrics.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "../../src/audit/prometheus-text.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv, Env } from "../env.ts";
import { adminOnly } from "./admin-only.ts";
import { namedSandboxStub, sandboxStub } from "./sandbox-stubs.ts";
import { namedTunnelStub, tunnelStub } from "./tunnels.ts";

export const adminMetricsRoutes = new Hono<EdgeEnv>();

/** Objects asked at once: enough to be quick, few enough not to flood the runtime. */
const CONCURRENCY = 16;

const MetricsQuerySchema = z
  .object({
    tunnel: z.string().min(1).max(63).optional(),
    sandbox: z.string().min(1).max(200).optional(),
    format: z.enum(["json", "prometheus"]).optional(),
  })
  .strict();

adminOnly(adminMetricsRoutes, "/metrics");

adminMetricsRoutes.get("/metrics", async (c) => {
  const query = parseInput(MetricsQuerySchema, c.req.query(), "metrics query");
  const now = Date.now();
  const filtered = query.tunnel !== undefined || query.sandbox !== undefined;
  const [tunnels, sandboxes] = await Promise.all([
    filtered ? namedTunnel(c.env, query.tunnel, now) : allTunnels(c.env, now),
    filtered ? namedSandbox(c.env, query.sandbox, now) : allSandboxes(c.env, now),
  ]);
  if (wantsPrometheus(query.format, c.req.header("accept"))) {
    return c.body(prometheusText(tunnels, sandboxes), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  }
  return c.json({ at: now, windows: METRIC_WINDOWS, tunnels, sandboxes });
});

async function namedTunnel(env: Env, name: string | undefined, now: number): Promise<TunnelMetrics[]> {
  if (name === undefined) return [];
  return [unwrap(await namedTunnelStub(env, name).metrics(now))];
}

async function namedSandbox(env: Env, id: string | undefined, now: number): Promise<SandboxMetrics[]> {
  if (id === undefined) return [];
  const metrics = await namedSandboxStub(env, id).metrics(now);
  if (!metrics) throw noSuchSandbox();
  return [metrics];
}

async function allTunnels(env: Env, now: number): Promise<TunnelMetrics[]> {
  const entries = await registry(env).list("tunnel");
  const metrics = await mapLimited(entries, CONCURRENCY, (entry) =>
    tunnelStub(env, entry.name)
      .metrics(now)
      // A name the Registry still lists but whose relay no longer holds a tunnel is skipped, and so
      // is one that cannot answer now: one broken object must not cost the scrape of all the others.
      .then((result) => (result.ok ? result.value : null))
      .catch((error: unknown) => {
        console.error(`metrics of tunnel ${entry.name}`, error);
        return null;
      }),
  );
  return metrics.filter((m) => m !== null);
}

async function allSandboxes(env: Env, now: number): Promise<SandboxMetrics[]> {
  const entries = await registry(env).list("sandbox");
  const metrics = await mapLimited(entries, CONCURRENCY, (entry) =>
    sandboxStub(env, entry.name)
      .metrics(now)
      .catch((error: unknown) => {
        console.error(`metrics of sandbox ${entry.name}`, error);
        return null;
      }),
  );
  return metrics.filter((m) => m !== null);
}

/** `format` wins; else an Accept that names text/plain or OpenMetrics but not JSON (what scrapers send). */
function wantsPrometheus(format: "json" | "prometheus" | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === "prometheus";
  const types = (accept ?? "").toLowerCase();
  return !types.includes("application/json") && /text\/plain|application\/openmetrics-text/.test(types);
}

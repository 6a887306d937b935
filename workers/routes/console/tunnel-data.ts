/**
 * What the console reads of tunnels, through the same Durable Object RPCs as the admin API: the
 * Registry's names, each relay's summary, detail, paged traces and sessions, and its metrics.
 */
import { registry } from "../../../durable-objects/registry.ts";
import type { SessionView, TunnelDetail, TunnelSummary } from "../../../durable-objects/tunnel-relay/admin-view.ts";
import type { EndedSession } from "../../../durable-objects/tunnel-relay/end-session.ts";
import type { StoredTrace } from "../../../durable-objects/tunnel-relay/trace-store.ts";
import type { TunnelMetrics } from "../../../src/audit/call-metrics.ts";
import type { Page, SessionQuery, TraceQuery } from "../../../src/audit/trace-query.ts";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import type { Env } from "../../env.ts";
import { namedTunnelStub, tunnelStub } from "../tunnels.ts";

export interface TunnelListRow {
  summary: TunnelSummary;
  metrics: TunnelMetrics | null;
}

/**
 * One page of tunnels by name (`after`: the last name of the previous page). Only the page's relays
 * are asked, so the list costs the same however many tunnels there are beyond it.
 */
export async function listTunnels(env: Env, after: string | null, limit: number): Promise<Page<TunnelListRow>> {
  const names = (await registry(env).list("tunnel"))
    .map((entry) => entry.name)
    .filter((name) => after === null || name > after);
  const page = names.slice(0, limit);
  const rows = await Promise.all(
    page.map(async (name): Promise<TunnelListRow | null> => {
      const stub = tunnelStub(env, name);
      const [summary, metrics] = await Promise.all([
        stub.summary().then((result) => (result.ok ? result.value : null)),
        tunnelMetrics(env, name),
      ]);
      // A name the Registry still lists but whose relay no longer holds a tunnel is skipped.
      return summary ? { summary, metrics } : null;
    }),
  );
  return { rows: rows.filter((row) => row !== null), next: names.length > limit ? (page.at(-1) ?? null) : null };
}

export async function tunnelDetail(env: Env, name: string): Promise<TunnelDetail> {
  return unwrap(await namedTunnelStub(env, name).detail({ traces: 0, sessions: 0 }));
}

/** The tunnel's call metrics, or null while they cannot be had. */
export async function tunnelMetrics(env: Env, name: string): Promise<TunnelMetrics | null> {
  const result = await namedTunnelStub(env, name).metrics();
  return result.ok ? result.value : null;
}

/** One page of the call trace, newest first, filtered. */
export async function tunnelTraces(env: Env, name: string, query: TraceQuery): Promise<Page<StoredTrace>> {
  return unwrap(await namedTunnelStub(env, name).traces(query));
}

/** One page of MCP sessions, most recently used first. */
export async function tunnelSessions(env: Env, name: string, query: SessionQuery): Promise<Page<SessionView>> {
  return unwrap(await namedTunnelStub(env, name).sessions(query));
}

/** Ends an MCP session: later calls with its id get 404; its upstream is told when reachable. */
export async function endSession(env: Env, name: string, server: string, id: string): Promise<EndedSession> {
  return unwrap(await namedTunnelStub(env, name).endSession(server, id));
}

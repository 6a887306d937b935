/**
 * What operators see of a tunnel (GET /admin/tunnels and /admin/tunnels/:name). Built from the
 * stores and the live gateway sockets; no token and no hash ever appears here.
 */
import type { ExecutorAnnouncement } from "../../src/protocol/executor-api.ts";
import type { ExecutorCalls, WorkspaceDeletion } from "./executor-calls.ts";
import type { GatewayServer } from "./gateway-connection.ts";
import type { GatewayPool } from "./gateway-pool.ts";
import type { SessionRecord, SessionStore } from "./session-store.ts";
import type { TunnelSettings } from "./settings.ts";
import type { TokenInfo, TokenStore } from "./token-store.ts";
import type { StoredTrace, TraceStore } from "./trace-store.ts";
import type { TunnelRow } from "./tunnel-store.ts";

export interface GatewayView {
  id: string;
  version: string;
  tokenId: string;
  connectedAt: number;
  inFlight: number;
  /** GoAway reason while the gateway drains, else null. */
  draining: string | null;
  servers: GatewayServer[];
  /** The executors (real bash and files on that machine) it announced. */
  executors: ExecutorAnnouncement[];
}

export interface SessionView extends SessionRecord {
  /** Whether the gateway the session sticks to is connected (if not, the session answers 404). */
  gatewayConnected: boolean;
}

export interface TunnelSummary {
  name: string;
  createdAt: number;
  gateways: number;
  servers: string[];
  inFlight: number;
  sessions: number;
}

export interface TunnelDetail {
  name: string;
  createdAt: number;
  settings: TunnelSettings;
  gateways: GatewayView[];
  /** Sockets connected but not yet past Hello. */
  pendingGateways: number;
  tokens: TokenInfo[];
  sessions: SessionView[];
  traces: StoredTrace[];
  errors: StoredTrace[];
  /** Workspaces of deleted sandboxes still on an executor that could not be reached to remove them. */
  pendingWorkspaceDeletions: WorkspaceDeletion[];
}

export interface DetailOptions {
  traces: number;
  sessions: number;
}

export interface ViewSources {
  tunnel: TunnelRow;
  pool: GatewayPool;
  tokens: TokenStore;
  sessions: SessionStore;
  traces: TraceStore;
  executors: ExecutorCalls;
}

export function gatewayViews(pool: GatewayPool): GatewayView[] {
  return pool.all().flatMap((connection) => {
    const hello = connection.hello;
    if (!hello) return [];
    return [
      {
        id: hello.gatewayId,
        version: hello.version,
        tokenId: connection.tokenId,
        connectedAt: connection.connectedAt,
        inFlight: connection.calls.size,
        draining: connection.draining,
        servers: hello.servers,
        executors: hello.executors ?? [],
      },
    ];
  });
}

/** Sessions with whether the gateway each sticks to is connected (if not, it answers 404). */
export function withGatewayState(pool: GatewayPool, sessions: SessionRecord[]): SessionView[] {
  const gateways = gatewayViews(pool);
  const connected = new Set(gateways.filter((gateway) => !gateway.draining).map((gateway) => gateway.id));
  return sessions.map((session) => ({ ...session, gatewayConnected: connected.has(session.gatewayId) }));
}

export function tunnelSummary(sources: ViewSources): TunnelSummary {
  const gateways = gatewayViews(sources.pool);
  return {
    name: sources.tunnel.name,
    createdAt: sources.tunnel.createdAt,
    gateways: gateways.length,
    servers: [...new Set(gateways.flatMap((gateway) => gateway.servers.map((server) => server.name)))].sort(),
    inFlight: gateways.reduce((sum, gateway) => sum + gateway.inFlight, 0),
    sessions: sources.sessions.count(),
  };
}

export function tunnelDetail(sources: ViewSources, options: DetailOptions): TunnelDetail {
  const gateways = gatewayViews(sources.pool);
  return {
    name: sources.tunnel.name,
    createdAt: sources.tunnel.createdAt,
    settings: sources.tunnel.settings,
    gateways,
    pendingGateways: sources.pool.all().filter((connection) => !connection.hello).length,
    tokens: sources.tokens.list(),
    sessions: withGatewayState(sources.pool, sources.sessions.list(options.sessions)),
    traces: sources.traces.recent(options.traces),
    errors: sources.traces.recentErrors(Math.min(options.traces, 50)),
    pendingWorkspaceDeletions: sources.executors.pendingDeletions(),
  };
}

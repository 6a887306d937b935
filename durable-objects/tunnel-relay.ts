import { DurableObject } from "cloudflare:workers";
import type { TunnelMetrics } from "../src/audit/call-metrics.ts";
import { PRUNE_BACKLOG_SHARE, PRUNE_EVERY_MS, PRUNE_SOON_MS } from "../src/audit/retention.ts";
import type { Page, SessionQuery, TraceQuery } from "../src/audit/trace-query.ts";
import { bearerToken, unauthorized } from "../src/auth/bearer.ts";
import { hashToken } from "../src/auth/tokens.ts";
import { asTetherError, errorResponse, jsonRpcErrorResponse } from "../src/errors/error-response.ts";
import { type RpcResult, settle } from "../src/errors/rpc-result.ts";
import { TetherError } from "../src/errors/tether-error.ts";
import { PING, PONG } from "../src/protocol/version.ts";
import { alarmNoLaterThan } from "../src/storage/alarm.ts";
import { WriteBehind } from "../src/storage/write-behind.ts";
import type { Env } from "../workers/env.ts";
import {
  type DetailOptions,
  type SessionView,
  type TunnelDetail,
  type TunnelSummary,
  tunnelDetail,
  tunnelSummary,
  withGatewayState,
} from "./tunnel-relay/admin-view.ts";
import { checkOrigin, isOriginAllowed, type Route, routeAgentRequest } from "./tunnel-relay/agent-routing.ts";
import { type CallContext, CallRecords } from "./tunnel-relay/call-records.ts";
import { allowOrigin } from "./tunnel-relay/cors.ts";
import { type EndedSession, endSession } from "./tunnel-relay/end-session.ts";
import {
  type ExecutorAnswer,
  ExecutorCalls,
  type ExecutorRequestInit,
  NO_SUCH_TUNNEL,
} from "./tunnel-relay/executor-calls.ts";
import { failureEvent } from "./tunnel-relay/failure-event.ts";
import { CloseCode } from "./tunnel-relay/gateway-connection.ts";
import { closeFor, handleGatewayMessage } from "./tunnel-relay/gateway-frames.ts";
import { GatewayPool } from "./tunnel-relay/gateway-pool.ts";
import { RelayCall } from "./tunnel-relay/relay-call.ts";
import { openFor, type RelayRequest } from "./tunnel-relay/relay-request.ts";
import { sessionPage } from "./tunnel-relay/session-page.ts";
import { SessionStore } from "./tunnel-relay/session-store.ts";
import type { TunnelSettings, TunnelSettingsPatch } from "./tunnel-relay/settings.ts";
import { SESSION_IDLE_MS } from "./tunnel-relay/storage.ts";
import { type IssuedToken, type TokenInfo, type TokenRole, TokenStore } from "./tunnel-relay/token-store.ts";
import { traceMetrics } from "./tunnel-relay/trace-metrics.ts";
import { PAYLOAD_CAPTURE_BYTES, type StoredTrace, TraceStore } from "./tunnel-relay/trace-store.ts";
import { TunnelStore } from "./tunnel-relay/tunnel-store.ts";

/** A gateway must say Hello this soon after connecting, or its socket is closed. */
const HELLO_TIMEOUT_MS = 10_000;

export interface CreatedTunnel {
  name: string;
  createdAt: number;
  settings: TunnelSettings;
  gatewayToken: IssuedToken;
  agentToken: IssuedToken;
}

export interface RevokedToken extends TokenInfo {
  /** Live gateway sockets closed because they authenticated with this token. */
  closedGateways: number;
}

/**
 * The relay of one tunnel (one object per tunnel, addressed by the tunnel's name).
 *
 * Gateways connect with a WebSocket (`fetch`, hibernatable, several per tunnel); agents' HTTP
 * requests arrive through `relay` and travel as streams over one of those sockets (./tunnel-relay/
 * relay-call.ts); operators call the other RPC methods. Storage layout and what survives an
 * eviction are documented in ./tunnel-relay/storage.ts.
 *
 * Lifecycle: `create` makes the tunnel (until then, and after `destroy`, every call answers as
 * for a tunnel that does not exist and nothing is stored). Idle with only gateways connected, the
 * object hibernates: pings are answered by the runtime, and attachments carry each socket's
 * metadata across. An alarm closes sockets that never say Hello and prunes idle sessions.
 */
export class TunnelRelay extends DurableObject<Env> {
  readonly #tunnel: TunnelStore;
  readonly #tokens: TokenStore;
  readonly #sessions: SessionStore;
  readonly #traces: TraceStore;
  readonly #records: CallRecords;
  readonly #pool: GatewayPool;
  readonly #executors: ExecutorCalls;
  readonly #writes: WriteBehind;
  /** Whether this instance made sure an alarm will prune what it writes. */
  #pruneArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.#writes = new WriteBehind(ctx.storage);
    this.#tunnel = new TunnelStore(sql);
    this.#tokens = new TokenStore(sql, this.#writes);
    this.#sessions = new SessionStore(sql, this.#writes);
    this.#traces = new TraceStore(sql, this.#writes, {
      backlogRows: () => (this.#tunnel.get()?.settings.audit.maxRows ?? 0) * PRUNE_BACKLOG_SHARE,
      onBacklog: () => this.#armPruning(Date.now() + PRUNE_SOON_MS),
    });
    this.#records = new CallRecords(this.#sessions, this.#traces, () => this.#armPruning(Date.now() + PRUNE_EVERY_MS));
    this.#pool = new GatewayPool(ctx);
    this.#executors = new ExecutorCalls(this.#pool, this.#traces, sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- operators (workers/routes/admin-tunnels.ts; refusals come back as values, see rpc-result.ts) ----

  create(name: string, settings: TunnelSettings): Promise<RpcResult<CreatedTunnel>> {
    return settle(async () => {
      if (this.#tunnel.get()) throw new TetherError("conflict", `tunnel "${name}" already exists`);
      const [gateway, agent] = await Promise.all([TokenStore.mint(name, "gateway"), TokenStore.mint(name, "agent")]);
      return this.ctx.storage.transactionSync(() => {
        const tunnel = this.#tunnel.create(name, settings);
        return { ...tunnel, gatewayToken: this.#tokens.insert(gateway), agentToken: this.#tokens.insert(agent) };
      });
    });
  }

  summary(): Promise<RpcResult<TunnelSummary>> {
    return settle(() => tunnelSummary(this.#sources()));
  }

  detail(options: DetailOptions): Promise<RpcResult<TunnelDetail>> {
    return settle(() => tunnelDetail(this.#sources(), options));
  }

  /** Call metrics over the rolling windows (src/audit/call-metrics.ts); `now` lets tests and benches pin the clock. */
  metrics(now?: number): Promise<RpcResult<TunnelMetrics>> {
    return settle(() =>
      traceMetrics(this.ctx.storage.sql, this.#traces, this.#requireTunnel().name, now ?? Date.now()),
    );
  }

  updateSettings(patch: TunnelSettingsPatch): Promise<RpcResult<TunnelSettings>> {
    return settle(() => this.#tunnel.updateSettings(patch));
  }

  /** Closes every gateway (4401: its token is gone with the tunnel), fails calls in flight, wipes storage. */
  destroy(): Promise<RpcResult<void>> {
    return settle(async () => {
      const tunnel = this.#requireTunnel();
      const error = new TetherError("gateway_lost", `tunnel "${tunnel.name}" was deleted`);
      for (const connection of this.#pool.all()) connection.close(CloseCode.revoked, "tunnel deleted", error);
      // Buffered traces belong to the tunnel being wiped; nothing may be written after the wipe.
      this.#writes.discard();
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.#tunnel.forget();
      this.#tokens.forget();
      this.#sessions.forget();
      this.#traces.forget();
    });
  }

  issueToken(role: TokenRole): Promise<RpcResult<IssuedToken>> {
    return settle(async () => {
      const tunnel = this.#requireTunnel();
      const minted = await TokenStore.mint(tunnel.name, role);
      this.#requireTunnel();
      return this.#tokens.insert(minted);
    });
  }

  /** Revokes a token; a gateway token's live sockets are closed with 4401 at once. */
  revokeToken(id: string): Promise<RpcResult<RevokedToken>> {
    return settle(() => {
      this.#requireTunnel();
      const token = this.#tokens.revoke(id);
      if (!token) throw new TetherError("not_found", `no token "${id}" on this tunnel`);
      const error = new TetherError("gateway_lost", "the gateway's token was revoked");
      const sockets = this.#pool.withToken(id).filter((connection) => connection.isOpen);
      for (const connection of sockets) connection.close(CloseCode.revoked, "token revoked", error);
      return { ...token, closedGateways: sockets.length };
    });
  }

  // ---- the audit trail (operators, the console; src/audit/trace-query.ts) ----

  /** One page of the call trail, newest first, filtered; buffered rows included. */
  traces(query: TraceQuery): Promise<RpcResult<Page<StoredTrace>>> {
    return settle(() => {
      this.#requireTunnel();
      return this.#traces.page(query);
    });
  }

  /** One page of MCP sessions, most recently used first. */
  sessions(query: SessionQuery): Promise<RpcResult<Page<SessionView>>> {
    return settle(() => {
      this.#requireTunnel();
      // Buffered last-use times first, so the page's order is the stored one.
      this.#writes.flush();
      const page = sessionPage(this.ctx.storage.sql, query);
      return { ...page, rows: withGatewayState(this.#pool, page.rows) };
    });
  }

  /** Forgets a session at the edge and asks its upstream to end it when its gateway is connected. */
  endSession(server: string, id: string): Promise<RpcResult<EndedSession>> {
    return settle(() => {
      const tunnel = this.#requireTunnel();
      return endSession(this.#pool, this.#sessions, server, id, tunnel.settings.sseKeepAliveMs);
    });
  }

  // ---- agents (workers/routes/tunnels.ts) ----

  /**
   * Relays one agent request; every failure becomes a JSON-RPC error response, never a throw. A
   * browser origin the tunnel allows may read the answer, whatever it is (see ./tunnel-relay/cors.ts).
   */
  async relay(request: RelayRequest): Promise<Response> {
    const response = await this.#relay(request);
    if (request.origin === null) return response;
    // A token refusal is the same whether the tunnel exists or not, so it is readable by any page
    // alike, as the Worker's own refusals are (workers/routes/tunnels.ts). Any other 401 is an
    // upstream's, relayed only when the Origin is allowed (another gets 403 first), so this widens
    // nothing.
    const readable = response.status === 401 || this.allowsOrigin(request.origin, request.edgeOrigin);
    return readable ? allowOrigin(response, request.origin) : response;
  }

  /** Whether a browser page at `origin` may call this tunnel (false when there is no tunnel). */
  allowsOrigin(origin: string, edgeOrigin: string): boolean {
    const tunnel = this.#tunnel.get();
    return tunnel !== null && isOriginAllowed(origin, edgeOrigin, tunnel.settings.allowedOrigins);
  }

  async #relay(request: RelayRequest): Promise<Response> {
    let context: CallContext | null = null;
    let route: Route;
    let keepAliveMs: number;
    try {
      const tunnel = this.#tunnel.get();
      const token = tunnel
        ? this.#tokens.verify(request.tokenHash, "agent")
        : this.#tokens.verifyWithoutTunnel(request.tokenHash);
      if (!tunnel || !token) throw invalidToken("agent");
      context = { request, tokenId: token.id, gatewayId: null, payloads: tunnel.settings.audit.payloads };
      if (!this.#pruneArmed) this.#armPruning(Date.now() + PRUNE_EVERY_MS);
      checkOrigin(request.origin, request.edgeOrigin, tunnel.settings.allowedOrigins);
      route = routeAgentRequest(this.#pool, this.#sessions, request, token.id);
      keepAliveMs = tunnel.settings.sseKeepAliveMs;
    } catch (error) {
      return this.#refuse(request, context, error);
    }
    if (route.session) this.#sessions.touch(route.session, Date.now());
    const call: CallContext = { ...context, gatewayId: route.connection.hello?.gatewayId ?? null };
    try {
      return await new RelayCall(route.connection, {
        server: request.server,
        open: openFor(request),
        body: request.body,
        keepAliveMs,
        captureBytes: call.payloads ? PAYLOAD_CAPTURE_BYTES : 0,
        failureEvent: (error) => failureEvent(request.mcp, error),
        onHead: (head) => this.#records.onHead(call, head),
        onDone: (outcome) => this.#records.onDone(call, outcome),
      }).start();
    } catch (error) {
      // The call traced its own failure.
      return jsonRpcErrorResponse(error, request.mcp.id);
    }
  }

  /** Answers a request refused before relaying; traced once the token was valid (401s are not). */
  #refuse(request: RelayRequest, context: CallContext | null, error: unknown): Response {
    const failure = asTetherError(error);
    if (context) this.#records.onRefused(context, failure);
    return jsonRpcErrorResponse(failure, request.mcp.id);
  }

  // ---- sandboxes on executors (durable-objects/sandbox/executor-backend.ts) ----

  /**
   * One wire-API request (src/protocol/executor-api.ts) from a sandbox to `executor`: on the
   * gateway whose executor is `instance` when the sandbox is pinned to one, else on the least
   * busy gateway announcing it. The body may be a stream (sent within the gateway's credit).
   */
  executorRequest(
    executor: string,
    instance: string | null,
    init: ExecutorRequestInit,
  ): Promise<RpcResult<ExecutorAnswer>> {
    return settle(() => {
      const tunnel = this.#tunnel.require(() => new TetherError("not_found", NO_SUCH_TUNNEL));
      if (!this.#pruneArmed) this.#armPruning(Date.now() + PRUNE_EVERY_MS);
      return this.#executors.request(tunnel.name, executor, instance, init, tunnel.settings.sseKeepAliveMs);
    });
  }

  /** Removes a deleted sandbox's workspace; recorded for operators when the executor is unreachable. */
  deleteExecutorWorkspace(
    executor: string,
    instance: string | null,
    sandboxId: string,
  ): Promise<RpcResult<{ deleted: boolean; reason: string | null }>> {
    return settle(() => {
      const tunnel = this.#requireTunnel();
      const keepAliveMs = tunnel.settings.sseKeepAliveMs;
      return this.#executors.deleteWorkspace(tunnel.name, executor, instance, sandboxId, keepAliveMs);
    });
  }

  /** Whether a gateway serving `executor` (at `instance`, when given) is connected and ready. */
  executorConnected(executor: string, instance: string | null): boolean {
    return this.#tunnel.get() !== null && this.#pool.pickExecutor(executor, instance) !== undefined;
  }

  // ---- gateways ----

  /** The gateway's WebSocket upgrade (the Worker checked the token's shape and scope). */
  override async fetch(request: Request): Promise<Response> {
    try {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        throw new TetherError("bad_request", "expected a WebSocket upgrade");
      }
      // Hashed before looking at the tunnel, so a missing tunnel costs what a wrong token does.
      const token = bearerToken(request.headers);
      const hash = token ? await hashToken(token) : null;
      const tunnel = this.#tunnel.get();
      const info = hash && (tunnel ? this.#tokens.verify(hash, "gateway") : this.#tokens.verifyWithoutTunnel(hash));
      if (!info) throw invalidToken("gateway");
      const { 0: client, 1: server } = new WebSocketPair();
      this.#pool.accept(server, info.id);
      await alarmNoLaterThan(this.ctx.storage, Date.now() + HELLO_TIMEOUT_MS);
      return new Response(null, { status: 101, webSocket: client });
    } catch (error) {
      return errorResponse(error);
    }
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const connection = this.#pool.get(ws);
    if (connection.closedByRelay) return;
    try {
      const tunnel = this.#tunnel.get();
      if (!tunnel) throw new TetherError("gateway_lost", "tunnel deleted");
      const greeted = connection.hello !== null;
      handleGatewayMessage(connection, message, tunnel.name);
      // A gateway just said Hello: its executors may hold workspaces of deleted sandboxes.
      if (!greeted && connection.announcesExecutors) {
        this.ctx.waitUntil(this.#executors.retryDeletions(tunnel.name, connection, tunnel.settings.sseKeepAliveMs));
      }
    } catch (error) {
      const { code, reason } = closeFor(error);
      connection.close(code, reason, new TetherError("gateway_lost", `the gateway connection failed: ${reason}`));
    }
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const connection = this.#pool.get(ws);
    const detail = reason ? `${code} ${reason}` : String(code);
    connection.close(
      CloseCode.normal,
      "closed",
      new TetherError("gateway_lost", `the gateway disconnected (${detail})`),
    );
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const connection = this.#pool.get(ws);
    connection.close(
      CloseCode.internal,
      "socket error",
      new TetherError("gateway_lost", `the gateway disconnected (socket error: ${String(error)})`),
    );
  }

  /**
   * Writes buffered traces and session use, closes sockets that never said Hello, prunes idle
   * sessions and the audit trail past its retention; re-arms while there is work left.
   */
  override async alarm(): Promise<void> {
    const tunnel = this.#tunnel.get();
    if (!tunnel) return;
    this.#writes.flush();
    const now = Date.now();
    let nextHelloDeadline = Number.POSITIVE_INFINITY;
    for (const connection of this.#pool.all()) {
      if (connection.hello) continue;
      const deadline = connection.connectedAt + HELLO_TIMEOUT_MS;
      if (deadline <= now) {
        connection.close(CloseCode.protocol, "no Hello in time", new TetherError("gateway_lost", "no Hello"));
      } else {
        nextHelloDeadline = Math.min(nextHelloDeadline, deadline);
      }
    }
    this.#sessions.pruneIdle(now - SESSION_IDLE_MS);
    this.#traces.prune(tunnel.settings.audit, now);
    const more = this.#sessions.count() > 0 || this.#traces.any();
    const next = Math.min(nextHelloDeadline, more ? now + PRUNE_EVERY_MS : Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  #requireTunnel() {
    return this.#tunnel.require(() => new TetherError("not_found", "no such tunnel"));
  }

  #sources() {
    const tunnel = this.#requireTunnel();
    return {
      tunnel,
      pool: this.#pool,
      tokens: this.#tokens,
      sessions: this.#sessions,
      traces: this.#traces,
      executors: this.#executors,
    };
  }

  /** Makes sure the alarm prunes no later than `at` (in the background: never on a call's path). */
  #armPruning(at: number): void {
    this.#pruneArmed = true;
    alarmNoLaterThan(this.ctx.storage, at).catch((error) => console.error("scheduling pruning", error));
  }
}

/**
 * The one refusal for a token the relay does not accept. A tunnel that does not exist answers
 * exactly like a wrong or revoked token (status, body, headers), so tokens cannot probe names.
 */
function invalidToken(what: "agent" | "gateway"): TetherError {
  return unauthorized(`invalid or revoked ${what} token`);
}

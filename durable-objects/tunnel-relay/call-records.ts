/**
 * MCP bookkeeping around a relayed call: the session an `initialize` response opens, the session
 * a DELETE (or an upstream 404) ends, and the call's trace. Kept apart from the byte relay so
 * relay-call.ts knows nothing about MCP.
 */
import type { TetherError } from "../../src/errors/tether-error.ts";
import { MCP_SESSION_ID } from "../../src/mcp/headers.ts";
import type { Head } from "../../src/protocol/messages.ts";
import type { CallOutcome } from "./relay-call.ts";
import type { RelayRequest } from "./relay-request.ts";
import type { SessionStore } from "./session-store.ts";
import { PAYLOAD_CAPTURE_BYTES, type TraceStore } from "./trace-store.ts";

export interface CallContext {
  request: RelayRequest;
  tokenId: string;
  gatewayId: string | null;
  /** Whether the tunnel stores calls' payloads in its audit trail (settings.audit.payloads). */
  payloads?: boolean;
}

export class CallRecords {
  readonly #sessions: SessionStore;
  readonly #traces: TraceStore;
  readonly #onSessionCreated: () => void;

  constructor(sessions: SessionStore, traces: TraceStore, onSessionCreated: () => void) {
    this.#sessions = sessions;
    this.#traces = traces;
    this.#onSessionCreated = onSessionCreated;
  }

  /** Before the agent sees the response: a new session must be known before its id is. */
  onHead(context: CallContext, head: Head): void {
    const { request } = context;
    if (request.sessionId !== null && head.status === 404) {
      // The upstream no longer knows the session: forget it too.
      this.#sessions.remove(request.server, request.sessionId);
      return;
    }
    const sessionId = head.headers.find(([name]) => name.toLowerCase() === MCP_SESSION_ID)?.[1];
    if (request.mcp.method !== "initialize" || !sessionId || head.status >= 300 || !context.gatewayId) return;
    const now = Date.now();
    this.#sessions.record({
      server: request.server,
      id: sessionId,
      tokenId: context.tokenId,
      gatewayId: context.gatewayId,
      clientName: request.mcp.client?.name ?? null,
      clientVersion: request.mcp.client?.version ?? null,
      protocolVersion: request.mcp.protocolVersion,
      createdAt: now,
      lastUsedAt: now,
    });
    this.#onSessionCreated();
  }

  /** A request refused before it was relayed (a valid token, but no gateway, a bad Origin, …). */
  onRefused(context: CallContext, failure: TetherError): void {
    this.onDone(context, {
      status: failure.status,
      error: failure.message,
      bytesIn: context.request.body?.byteLength ?? 0,
      bytesOut: 0,
      startedAt: Date.now(),
      durationMs: 0,
    });
  }

  onDone(context: CallContext, outcome: CallOutcome): void {
    const { request } = context;
    // DELETE ends the session (405 means the upstream keeps it: clients may not end sessions there).
    if (request.method === "DELETE" && request.sessionId !== null && outcome.status !== 405) {
      this.#sessions.remove(request.server, request.sessionId);
    }
    this.#traces.add({
      at: outcome.startedAt,
      server: request.server,
      httpMethod: request.method,
      rpcMethod: request.mcp.method,
      tool: request.mcp.tool,
      sessionId: request.sessionId,
      gatewayId: context.gatewayId,
      tokenId: context.tokenId,
      status: outcome.status,
      durationMs: outcome.durationMs,
      bytesIn: outcome.bytesIn,
      bytesOut: outcome.bytesOut,
      error: outcome.error,
      payload: context.payloads
        ? {
            request: request.body?.slice(0, PAYLOAD_CAPTURE_BYTES) ?? null,
            response: outcome.response ?? null,
            responseBytes: outcome.bytesOut,
          }
        : undefined,
    });
  }
}

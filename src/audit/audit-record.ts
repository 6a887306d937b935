/**
 * One record schema for the whole audit trail, as `GET /admin/audit` exports it (JSON lines) and
 * `tether audit export` writes it: tunnel calls, sandbox tool calls and operator actions alike.
 * Fields that do not apply to a kind are null, so every line has the same shape.
 */
import { z } from "zod";
import type { SandboxTraceRow } from "../../durable-objects/sandbox/trace.ts";
import type { StoredTrace } from "../../durable-objects/tunnel-relay/trace-store.ts";
import { isFailedCall } from "./metrics-rollup.ts";
import type { OperatorActionRow } from "./operator-action.ts";

export const AUDIT_KINDS = ["tunnel_call", "sandbox_call", "operator_action"] as const;
export const AuditKindSchema = z.enum(AUDIT_KINDS);
export type AuditKind = z.infer<typeof AuditKindSchema>;

export const AuditRecordSchema = z.object({
  kind: AuditKindSchema,
  /** The row's id in its source (a tunnel's, a sandbox's, or the operator actions'); grows with time. */
  id: z.number().int(),
  at: z.iso.datetime(),
  tunnel: z.string().nullable(),
  sandbox: z.string().nullable(),
  /** Who: the agent token id (tunnel calls), the caller (sandbox calls), the operator (operator actions). */
  who: z.string().nullable(),
  /** What: the JSON-RPC method (or HTTP method) of a tunnel call, the tool of a sandbox call, the operator action. */
  what: z.string(),
  server: z.string().nullable(),
  tool: z.string().nullable(),
  session_id: z.string().nullable(),
  gateway_id: z.string().nullable(),
  /** HTTP status of a tunnel call (0: no answer); null for the other kinds. */
  status: z.number().int().nullable(),
  ok: z.boolean(),
  duration_ms: z.number().nullable(),
  bytes_in: z.number().int().nullable(),
  bytes_out: z.number().int().nullable(),
  error: z.string().nullable(),
  /** An operator action's object (a token id, a session, an environment); a sandbox call's tool_use id. */
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  /** Redacted, bounded arguments/input and result start, when the source stores payloads. */
  args: z.string().nullable(),
  result: z.string().nullable(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

const EMPTY = {
  tunnel: null,
  sandbox: null,
  server: null,
  tool: null,
  session_id: null,
  gateway_id: null,
  status: null,
  duration_ms: null,
  bytes_in: null,
  bytes_out: null,
  error: null,
  target: null,
  detail: null,
  args: null,
  result: null,
} as const;

export function tunnelCallRecord(tunnel: string, row: StoredTrace): AuditRecord {
  return {
    ...EMPTY,
    kind: "tunnel_call",
    id: row.id,
    at: iso(row.at),
    tunnel,
    who: row.tokenId,
    what: row.rpcMethod ?? row.httpMethod,
    server: row.server,
    tool: row.tool,
    session_id: row.sessionId,
    gateway_id: row.gatewayId,
    status: row.status,
    ok: !isFailedCall(row),
    duration_ms: row.durationMs,
    bytes_in: row.bytesIn,
    bytes_out: row.bytesOut,
    error: row.error,
    args: row.args,
    result: row.result,
  };
}

export function sandboxCallRecord(sandbox: string, row: SandboxTraceRow): AuditRecord {
  return {
    ...EMPTY,
    kind: "sandbox_call",
    id: row.id,
    at: iso(row.at),
    sandbox,
    who: row.caller,
    what: row.tool,
    tool: row.tool,
    ok: row.error === null,
    duration_ms: row.durationMs,
    bytes_out: row.bytes,
    error: row.error,
    target: row.toolUseId,
    args: row.input,
    result: row.result,
  };
}

export function operatorActionRecord(row: OperatorActionRow): AuditRecord {
  return {
    ...EMPTY,
    kind: "operator_action",
    id: row.id,
    at: iso(row.at),
    tunnel: row.tunnel,
    sandbox: row.sandbox,
    who: row.operator,
    what: row.action,
    ok: true,
    target: row.target,
    detail: row.detail,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

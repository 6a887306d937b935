/**
 * The tunnel's audit trail: one row per relayed call (table `traces`, see ./storage.ts), kept by
 * age and row count (settings.audit) and pruned by the object's alarm (`prune`), never on a call's
 * path. Operators page through it with filters (`page`, src/audit/trace-query.ts).
 *
 * Traces are written behind (src/storage/write-behind.ts): `add` buffers the row in memory with its
 * final id, and the buffer reaches SQLite in one transaction with the others, at most a second later
 * or once FLUSH_ROWS are waiting. A relayed call therefore never waits for a disk write of its own
 * trace. The cost: an eviction loses the traces of (at most) the last second. `recent`, `recentErrors`
 * and `page` merge the buffer in, so operators see every call at once.
 *
 * Payloads (settings.audit.payloads): the call hands over the raw first bytes of its request and
 * response; they are decoded, redacted (src/audit/redact.ts) and bounded when written or viewed,
 * never on the call's path.
 */
import { FAILED_CALL_SQL, isFailedCall } from "../../src/audit/metrics-rollup.ts";
import { equals, type PageWindow, pageOf, type RowFilter } from "../../src/audit/paging.ts";
import { redactedBody, redactedJson } from "../../src/audit/redact.ts";
import { type AuditSettings, type Pruned, pruneTable } from "../../src/audit/retention.ts";
import type { Page, TraceQuery } from "../../src/audit/trace-query.ts";
import { all, first, run, type SqlValue } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";

/** A buffer this full is written at once instead of waiting for the timer. */
export const FLUSH_ROWS = 100;
/** Rows buffered at most (a failing flush keeps them): older ones are dropped beyond this. */
const MAX_PENDING = 1_000;
const COLUMNS = 16;
/** 16 columns: 6 rows stay within the 100 bound parameters a statement may have. */
const ROWS_PER_INSERT = Math.floor(100 / COLUMNS);
const ROW_PLACEHOLDERS = `(${new Array(COLUMNS).fill("?").join(", ")})`;
/** What a call hands over of its bodies when payloads are on: their first bytes only. */
export const PAYLOAD_CAPTURE_BYTES = 16 * 1024;
/** What is stored of them, after redaction. */
export const MAX_ARGS_BYTES = 8 * 1024;
export const MAX_RESULT_BYTES = 4 * 1024;

/** The first bytes of a call's request and response (only when the tunnel stores payloads). */
export interface CallPayload {
  request: Uint8Array | null;
  response: Uint8Array | null;
  /** The response's full length (more than `response` holds when it was cut). */
  responseBytes: number;
}

export interface CallTrace {
  at: number;
  server: string;
  httpMethod: string;
  /** JSON-RPC method of a POST (null for GET streams, DELETE, non-JSON-RPC bodies). */
  rpcMethod: string | null;
  /** Tool name of a `tools/call`. */
  tool: string | null;
  sessionId: string | null;
  gatewayId: string | null;
  tokenId: string | null;
  /** HTTP status the agent got (0 when the call failed before any answer could be made). */
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  error: string | null;
  payload?: CallPayload | undefined;
}

export interface StoredTrace extends Omit<CallTrace, "payload"> {
  id: number;
  /** The request's JSON-RPC params, redacted and bounded; null unless the tunnel stores payloads. */
  args: string | null;
  /** The first bytes of the response, redacted and bounded; null unless the tunnel stores payloads. */
  result: string | null;
}

interface PendingTrace extends CallTrace {
  id: number;
}

interface TraceRow {
  id: number;
  at: number;
  server: string;
  http_method: string;
  rpc_method: string | null;
  tool: string | null;
  session_id: string | null;
  gateway_id: string | null;
  token_id: string | null;
  status: number;
  duration_ms: number;
  bytes_in: number;
  bytes_out: number;
  error: string | null;
  args: string | null;
  result: string | null;
}

/** When the trail grows fast, its owner prunes sooner than hourly. */
export interface PruneBacklog {
  /** Rows written since the last pruning past which `onBacklog` is called (once per pruning). */
  backlogRows(): number;
  onBacklog(): void;
}

export class TraceStore implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  readonly #backlog: PruneBacklog | undefined;
  /** Rows written since the last pruning; null once the owner was told. */
  #sincePrune: number | null = 0;
  /** Buffered traces, oldest first, with the ids they will be stored under. */
  #pending: PendingTrace[] = [];
  /** The id of the newest trace, stored or buffered; read from SQLite on first use. */
  #lastId: number | undefined;

  constructor(sql: SqlStorage, writes: WriteBehind, backlog?: PruneBacklog) {
    this.#sql = sql;
    this.#writes = writes;
    this.#backlog = backlog;
    writes.add(this);
  }

  add(trace: CallTrace): void {
    this.#lastId ??= first<{ id: number | null }>(this.#sql, "SELECT max(id) AS id FROM traces")?.id ?? 0;
    this.#lastId++;
    this.#pending.push({
      ...trace,
      id: this.#lastId,
      durationMs: Math.round(trace.durationMs),
      error: trace.error?.slice(0, 2000) ?? null,
    });
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
    this.#writes.buffered(this.#pending.length >= FLUSH_ROWS);
  }

  hasPending(): boolean {
    return this.#pending.length > 0;
  }

  writePending(): void {
    // As many rows per statement as SQLite's bound-parameter limit allows.
    for (let start = 0; start < this.#pending.length; start += ROWS_PER_INSERT) {
      const rows = this.#pending.slice(start, start + ROWS_PER_INSERT).map(toStored);
      run(
        this.#sql,
        `INSERT INTO traces (id, at, server, http_method, rpc_method, tool, session_id, gateway_id, token_id,
           status, duration_ms, bytes_in, bytes_out, error, args, result) VALUES ${rows.map(() => ROW_PLACEHOLDERS).join(", ")}`,
        ...rows.flatMap((trace) => [
          trace.id,
          trace.at,
          trace.server,
          trace.httpMethod,
          trace.rpcMethod,
          trace.tool,
          trace.sessionId,
          trace.gatewayId,
          trace.tokenId,
          trace.status,
          trace.durationMs,
          trace.bytesIn,
          trace.bytesOut,
          trace.error,
          trace.args,
          trace.result,
        ]),
      );
    }
    if (this.#sincePrune === null || !this.#backlog) return;
    this.#sincePrune += this.#pending.length;
    if (this.#sincePrune >= this.#backlog.backlogRows()) {
      this.#sincePrune = null;
      this.#backlog.onBacklog();
    }
  }

  clearPending(): void {
    this.#pending = [];
  }

  /** Forgets the id sequence after the storage was wiped. */
  forget(): void {
    this.#pending = [];
    this.#lastId = undefined;
  }

  /** Deletes stored rows past the retention (the alarm's work). */
  prune(settings: AuditSettings, now: number): Pruned {
    this.#sincePrune = 0;
    return pruneTable(this.#sql, "traces", "id", settings, now);
  }

  /** Whether any trace is stored or buffered (cheap: one index probe). */
  any(): boolean {
    return this.#pending.length > 0 || first(this.#sql, "SELECT 1 FROM traces LIMIT 1") !== undefined;
  }

  /** The newest traces, buffered ones included. */
  recent(limit: number): StoredTrace[] {
    return this.page({ limit }).rows;
  }

  /** The newest failed calls (error text, a status of 400 or more, or no answer at all). */
  recentErrors(limit: number): StoredTrace[] {
    return this.page({ status: "error", limit }).rows;
  }

  /** One page, newest first, filtered (buffered rows included). */
  page(query: Omit<TraceQuery, "limit"> & PageWindow): Page<StoredTrace> {
    const filters: RowFilter<PendingTrace>[] = [];
    const { server, tool, session, status } = query;
    if (server !== undefined) filters.push(equals("server", server, (row) => row.server));
    if (tool !== undefined) filters.push(equals("tool", tool, (row) => row.tool));
    if (session !== undefined) filters.push(equals("session_id", session, (row) => row.sessionId));
    if (status === "error") filters.push({ where: FAILED_CALL_SQL, params: [], matches: isFailedCall });
    if (status === "ok") {
      filters.push({ where: `NOT ${FAILED_CALL_SQL}`, params: [], matches: (row) => !isFailedCall(row) });
    }
    const page = pageOf<PendingTrace | StoredTrace>(
      { pending: this.#pending, stored: (where, params, limit) => this.#stored(where, params, limit) },
      filters as RowFilter<PendingTrace | StoredTrace>[],
      query,
    );
    return { ...page, rows: page.rows.map((row) => ("args" in row ? row : toStored(row))) };
  }

  /** Traces not yet written, oldest first (metrics add them to what SQLite holds). */
  buffered(): readonly CallTrace[] {
    return this.#pending;
  }

  /** Traces kept, buffered ones included (counts the whole table: for tests and small tunnels). */
  count(): number {
    return (first<{ n: number }>(this.#sql, "SELECT count(*) AS n FROM traces")?.n ?? 0) + this.#pending.length;
  }

  #stored(where: string, params: SqlValue[], limit: number): StoredTrace[] {
    return all<TraceRow>(this.#sql, `SELECT * FROM traces ${where} ORDER BY id DESC LIMIT ?`, ...params, limit).map(
      toTrace,
    );
  }
}

/** A buffered trace as it is stored: its payload decoded, redacted and bounded. */
function toStored(trace: PendingTrace): StoredTrace {
  const { payload, ...rest } = trace;
  return {
    ...rest,
    args: payload?.request ? argsText(payload.request) : null,
    result: payload?.response ? redactedBody(payload.response, MAX_RESULT_BYTES, payload.responseBytes) : null,
  };
}

/** The JSON-RPC request's params when the body is one, else the body's text. */
function argsText(body: Uint8Array): string {
  try {
    const message = JSON.parse(new TextDecoder().decode(body)) as unknown;
    if (message && typeof message === "object" && "params" in message) {
      return redactedJson((message as { params: unknown }).params, MAX_ARGS_BYTES);
    }
  } catch {
    // Not JSON (or cut at the capture limit): stored as redacted text below.
  }
  return redactedBody(body, MAX_ARGS_BYTES);
}

function toTrace(row: TraceRow): StoredTrace {
  return {
    id: row.id,
    at: row.at,
    server: row.server,
    httpMethod: row.http_method,
    rpcMethod: row.rpc_method,
    tool: row.tool,
    sessionId: row.session_id,
    gatewayId: row.gateway_id,
    tokenId: row.token_id,
    status: row.status,
    durationMs: row.duration_ms,
    bytesIn: row.bytes_in,
    bytesOut: row.bytes_out,
    error: row.error,
    args: row.args,
    result: row.result,
  };
}

/**
 * One trace row per relayed call (table `traces`, see ./storage.ts), newest MAX_TRACES kept, so
 * operators can see what went through the tunnel and what failed without any log pipeline.
 *
 * Traces are written behind (src/storage/write-behind.ts): `add` buffers the row in memory with its final
 * id, and the buffer reaches SQLite in one transaction with the others, at most a second later or
 * once FLUSH_ROWS are waiting; each flush also prunes beyond MAX_TRACES. A relayed call therefore
 * never waits for a disk write of its own trace. The cost: an eviction loses the traces of (at
 * most) the last second. `recent` and `recentErrors` merge the buffer in, so operators see every
 * call at once.
 */
import { all, first, run } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";
import { MAX_TRACES } from "./storage.ts";

/** A buffer this full is written at once instead of waiting for the timer. */
export const FLUSH_ROWS = 100;
/** 14 columns: 7 rows stay within the 100 bound parameters a statement may have. */
const ROWS_PER_INSERT = 7;
const ROW_PLACEHOLDERS = `(${new Array(14).fill("?").join(", ")})`;

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
}

export interface StoredTrace extends CallTrace {
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
}

export class TraceStore implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  /** Buffered traces, oldest first, with the ids they will be stored under. */
  #pending: StoredTrace[] = [];
  /** The id of the newest trace, stored or buffered; read from SQLite on first use. */
  #lastId: number | undefined;

  constructor(sql: SqlStorage, writes: WriteBehind) {
    this.#sql = sql;
    this.#writes = writes;
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
    // Older ones would be pruned by the flush anyway: the buffer never outgrows the retention.
    if (this.#pending.length > MAX_TRACES) this.#pending.shift();
    this.#writes.buffered(this.#pending.length >= FLUSH_ROWS);
  }

  hasPending(): boolean {
    return this.#pending.length > 0;
  }

  writePending(): void {
    // As many rows per statement as SQLite's bound-parameter limit allows.
    for (let start = 0; start < this.#pending.length; start += ROWS_PER_INSERT) {
      const rows = this.#pending.slice(start, start + ROWS_PER_INSERT);
      run(
        this.#sql,
        `INSERT INTO traces (id, at, server, http_method, rpc_method, tool, session_id, gateway_id, token_id,
           status, duration_ms, bytes_in, bytes_out, error) VALUES ${rows.map(() => ROW_PLACEHOLDERS).join(", ")}`,
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
        ]),
      );
    }
    const newest = this.#pending.at(-1)?.id ?? 0;
    run(this.#sql, "DELETE FROM traces WHERE id <= ?", newest - MAX_TRACES);
  }

  clearPending(): void {
    this.#pending = [];
  }

  /** Forgets the id sequence after the storage was wiped. */
  forget(): void {
    this.#pending = [];
    this.#lastId = undefined;
  }

  /** The newest traces, buffered ones included. */
  recent(limit: number): StoredTrace[] {
    const buffered = this.#pending.slice(-limit).reverse();
    const stored = limit > buffered.length ? this.#stored("", limit - buffered.length) : [];
    return [...buffered, ...stored];
  }

  /** The newest failed calls (error text, a status of 400 or more, or no answer at all). */
  recentErrors(limit: number): StoredTrace[] {
    const buffered = this.#pending.filter(isFailure).slice(-limit).reverse();
    const stored =
      limit > buffered.length
        ? this.#stored("WHERE error IS NOT NULL OR status >= 400 OR status = 0", limit - buffered.length)
        : [];
    return [...buffered, ...stored];
  }

  /** Traces kept, buffered ones included. */
  count(): number {
    return (first<{ n: number }>(this.#sql, "SELECT count(*) AS n FROM traces")?.n ?? 0) + this.#pending.length;
  }

  #stored(where: string, limit: number): StoredTrace[] {
    return all<TraceRow>(this.#sql, `SELECT * FROM traces ${where} ORDER BY id DESC LIMIT ?`, limit).map(toTrace);
  }
}

function isFailure(trace: CallTrace): boolean {
  return trace.error !== null || trace.status >= 400 || trace.status === 0;
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
  };
}

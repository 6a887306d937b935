/**
 * One trace row per relayed call (table `traces`, see ./storage.ts), newest MAX_TRACES kept, so
 * operators can see what went through the tunnel and what failed without any log pipeline.
 */
import { all, run } from "../../src/storage/sql.ts";
import { MAX_TRACES } from "./storage.ts";

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

export class TraceStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  add(trace: CallTrace): void {
    const cursor = this.#sql.exec(
      `INSERT INTO traces (at, server, http_method, rpc_method, tool, session_id, gateway_id, token_id,
         status, duration_ms, bytes_in, bytes_out, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      trace.at,
      trace.server,
      trace.httpMethod,
      trace.rpcMethod,
      trace.tool,
      trace.sessionId,
      trace.gatewayId,
      trace.tokenId,
      trace.status,
      Math.round(trace.durationMs),
      trace.bytesIn,
      trace.bytesOut,
      trace.error?.slice(0, 2000) ?? null,
    );
    const id = (cursor.one() as { id: number }).id;
    run(this.#sql, "DELETE FROM traces WHERE id <= ?", id - MAX_TRACES);
  }

  recent(limit: number): StoredTrace[] {
    return all<TraceRow>(this.#sql, "SELECT * FROM traces ORDER BY id DESC LIMIT ?", limit).map(toTrace);
  }

  recentErrors(limit: number): StoredTrace[] {
    return all<TraceRow>(
      this.#sql,
      "SELECT * FROM traces WHERE error IS NOT NULL OR status >= 400 OR status = 0 ORDER BY id DESC LIMIT ?",
      limit,
    ).map(toTrace);
  }

  count(): number {
    return all<{ n: number }>(this.#sql, "SELECT count(*) AS n FROM traces")[0]?.n ?? 0;
  }
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

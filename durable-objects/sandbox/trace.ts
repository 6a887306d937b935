import { all, ensureSchema, run } from "../../src/storage/sql.ts";

/**
 * The recent tool-call trace operators see in `GET /admin/sandboxes/:id`: one row per finished tool
 * call, whoever made it (HTTP or MCP). Bounded: only the last TRACE_RETENTION rows are kept.
 *
 * Storage: sandbox_trace(seq, at, tool_use_id, tool, duration_ms, bytes, error) — `bytes` is the
 * size of the result text returned to the caller; `error` is the first line of an is_error result.
 */
export const TRACE_RETENTION = 200;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sandbox_trace (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, tool_use_id TEXT NOT NULL,
     tool TEXT NOT NULL, duration_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, error TEXT)`,
];

export interface TraceEntry {
  at: number;
  toolUseId: string;
  tool: string;
  durationMs: number;
  bytes: number;
  error: string | null;
}

const MAX_ERROR_CHARS = 300;

export class TraceLog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  init(): void {
    ensureSchema(this.#sql, SCHEMA);
  }

  record(entry: TraceEntry): void {
    const error = entry.error === null ? null : firstLine(entry.error);
    run(
      this.#sql,
      "INSERT INTO sandbox_trace (at, tool_use_id, tool, duration_ms, bytes, error) VALUES (?, ?, ?, ?, ?, ?)",
      entry.at,
      entry.toolUseId,
      entry.tool,
      Math.round(entry.durationMs),
      entry.bytes,
      error,
    );
    run(this.#sql, "DELETE FROM sandbox_trace WHERE seq <= (SELECT MAX(seq) FROM sandbox_trace) - ?", TRACE_RETENTION);
  }

  /** Newest first. */
  recent(limit = TRACE_RETENTION): TraceEntry[] {
    return all<TraceEntry>(
      this.#sql,
      `SELECT at, tool_use_id AS toolUseId, tool, duration_ms AS durationMs, bytes, error
       FROM sandbox_trace ORDER BY seq DESC LIMIT ?`,
      limit,
    );
  }
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}

import { resultText, type ToolResultEvent } from "../../src/sandbox/tool-calls/events.ts";
import { all, ensureSchema, first, run } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";

/**
 * The recent tool-call trace operators see in `GET /admin/sandboxes/:id`: one row per finished tool
 * call, whoever made it (HTTP or MCP). Bounded: only the last TRACE_RETENTION rows are kept.
 *
 * Storage: sandbox_trace(seq, at, tool_use_id, tool, duration_ms, bytes, error) — `bytes` is the
 * size of the result text returned to the caller; `error` is the first line of an is_error result.
 *
 * Rows are written behind (src/storage/write-behind.ts): `record` buffers the entry and the
 * buffer reaches SQLite in one transaction at most a second later (or once FLUSH_ROWS are
 * waiting), so a tool call's answer never waits for its own trace to reach disk. `recent` merges
 * the buffer in, so operators see every call at once; an eviction loses at most the last second.
 */
export const TRACE_RETENTION = 200;

/** What a trace row costs besides its text: its integers and B-tree cell. */
const TRACE_ROW_BYTES = 64;

/** A buffer this full is written at once instead of waiting for the timer. */
const FLUSH_ROWS = 100;

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

export class TraceLog implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  /** Entries not yet written, oldest first. */
  #pending: TraceEntry[] = [];
  /** Bytes of the stored rows (TRACE_ROW_BYTES each plus their text), read once after each flush. */
  #storedBytes: number | undefined;

  constructor(sql: SqlStorage, writes: WriteBehind) {
    this.#sql = sql;
    this.#writes = writes;
    writes.add(this);
  }

  init(): void {
    ensureSchema(this.#sql, SCHEMA);
  }

  record(entry: TraceEntry): void {
    this.#pending.push({
      ...entry,
      durationMs: Math.round(entry.durationMs),
      error: entry.error === null ? null : firstLine(entry.error),
    });
    // Older ones would be pruned by the flush anyway: the buffer never outgrows the retention.
    if (this.#pending.length > TRACE_RETENTION) this.#pending.shift();
    this.#writes.buffered(this.#pending.length >= FLUSH_ROWS);
  }

  hasPending(): boolean {
    return this.#pending.length > 0;
  }

  writePending(): void {
    for (const entry of this.#pending) {
      run(
        this.#sql,
        "INSERT INTO sandbox_trace (at, tool_use_id, tool, duration_ms, bytes, error) VALUES (?, ?, ?, ?, ?, ?)",
        entry.at,
        entry.toolUseId,
        entry.tool,
        entry.durationMs,
        entry.bytes,
        entry.error,
      );
    }
    run(this.#sql, "DELETE FROM sandbox_trace WHERE seq <= (SELECT MAX(seq) FROM sandbox_trace) - ?", TRACE_RETENTION);
  }

  clearPending(): void {
    this.#pending = [];
    this.#storedBytes = undefined;
  }

  /** What the trace stores, written and pending (counted toward the sandbox's quota). */
  storedBytes(): number {
    if (this.#storedBytes === undefined) {
      const table = first(this.#sql, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sandbox_trace'");
      this.#storedBytes = table
        ? (first<{ n: number | null }>(
            this.#sql,
            `SELECT SUM(${TRACE_ROW_BYTES} + length(CAST(tool_use_id AS BLOB)) + length(CAST(tool AS BLOB))
               + COALESCE(length(CAST(error AS BLOB)), 0)) AS n FROM sandbox_trace`,
          )?.n ?? 0)
        : 0;
    }
    let pending = 0;
    for (const entry of this.#pending) {
      pending += TRACE_ROW_BYTES + entry.toolUseId.length + entry.tool.length + (entry.error?.length ?? 0);
    }
    return this.#storedBytes + pending;
  }

  /** Newest first, buffered entries included. */
  recent(limit = TRACE_RETENTION): TraceEntry[] {
    const buffered = this.#pending.slice(-limit).reverse();
    if (buffered.length >= limit) return buffered;
    const stored = all<TraceEntry>(
      this.#sql,
      `SELECT at, tool_use_id AS toolUseId, tool, duration_ms AS durationMs, bytes, error
       FROM sandbox_trace ORDER BY seq DESC LIMIT ?`,
      limit - buffered.length,
    );
    return [...buffered, ...stored];
  }
}

/** The trace row of a finished HTTP or MCP tool call. */
export function traceEntryOf(event: ToolResultEvent): TraceEntry {
  return {
    at: Date.now(),
    toolUseId: event.tool_use_id,
    tool: event.meta.name,
    durationMs: event.meta.duration_ms,
    bytes: event.meta.bytes_out,
    error: event.result.is_error ? resultText(event) : null,
  };
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}

import { equals, type PageWindow, pageOf, type RowFilter } from "../../src/audit/paging.ts";
import { boundText, redactKnown, redactText, redactValue } from "../../src/audit/redact.ts";
import {
  type AuditSettings,
  DEFAULT_MAX_ROWS,
  DEFAULT_RETENTION_DAYS,
  PRUNE_BACKLOG_SHARE,
  type Pruned,
  pruneTable,
} from "../../src/audit/retention.ts";
import type { Page, TraceQuery } from "../../src/audit/trace-query.ts";
import { resultText, type ToolResultEvent } from "../../src/sandbox/tool-calls/events.ts";
import { addMissingColumns, all, ensureSchema, first, run, type SqlValue } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";

/**
 * The sandbox's audit trail of tool calls (`GET /admin/sandboxes/:id/traces`, the console, the
 * export): one row per finished tool call, whoever made it (HTTP, MCP, a Managed Agents session),
 * kept by age and row count (the create request's `audit`) and pruned by the object's alarm.
 *
 * Storage:
 *   sandbox_trace(seq, at, tool_use_id, tool, duration_ms, bytes, error, caller, input, result)
 *     `bytes` is the size of the result text returned to the caller; `error` the first line of an
 *     is_error result; `caller` who called (`admin`, `api:<token id>`, `sandbox-token:<id>`,
 *     `session:<id>`); `input` the call's input as JSON and `result` the start of its result text,
 *     both redacted (src/audit/redact.ts) and bounded, unless payloads are off. caller/input/result
 *     were added later: older databases get them by ALTER TABLE on wake.
 *   sandbox_audit(retention_days, max_rows, payloads)   one row, from the create request
 *     (defaults when missing: sandboxes created before it).
 * The trail does not count toward the sandbox's quota (that is the agent's workspace): its own
 * retention bounds it (max_rows rows of at most MAX_INPUT_BYTES + MAX_RESULT_BYTES of payload).
 *
 * Rows are written behind (src/storage/write-behind.ts): `record` buffers the entry (with its
 * payload raw: redaction runs at the flush, not on the call's path) and the buffer reaches SQLite
 * in one transaction at most a second later (or once FLUSH_ROWS are waiting). Views merge the
 * buffer in; an eviction loses at most the last second.
 */

/** What the admin detail view shows: the newest calls (the trail pages further). */
export const TRACE_RETENTION = 200;
/** Stored of a call's input and result, after redaction. */
export const MAX_INPUT_BYTES = 8 * 1024;
export const MAX_RESULT_BYTES = 2 * 1024;
/** Kept in memory of a result until the flush redacts it (a little more than is stored). */
const RESULT_CAPTURE_CHARS = 4 * 1024;

/** A buffer this full is written at once instead of waiting for the timer. */
const FLUSH_ROWS = 100;
const MAX_PENDING = 1_000;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sandbox_trace (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, tool_use_id TEXT NOT NULL,
     tool TEXT NOT NULL, duration_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, error TEXT,
     caller TEXT, input TEXT, result TEXT)`,
  `CREATE TABLE IF NOT EXISTS sandbox_audit (
     retention_days INTEGER NOT NULL, max_rows INTEGER NOT NULL, payloads INTEGER NOT NULL)`,
];
const INDEXES = [
  `CREATE INDEX IF NOT EXISTS sandbox_trace_by_at ON sandbox_trace (at)`,
  `CREATE INDEX IF NOT EXISTS sandbox_trace_by_tool ON sandbox_trace (tool, seq)`,
  `CREATE INDEX IF NOT EXISTS sandbox_trace_by_caller ON sandbox_trace (caller, seq)`,
  `CREATE INDEX IF NOT EXISTS sandbox_trace_failed ON sandbox_trace (seq) WHERE error IS NOT NULL`,
];

export const DEFAULT_SANDBOX_AUDIT: AuditSettings = {
  retentionDays: DEFAULT_RETENTION_DAYS,
  maxRows: DEFAULT_MAX_ROWS,
  payloads: true,
};

export interface TraceEntry {
  at: number;
  toolUseId: string;
  tool: string;
  durationMs: number;
  bytes: number;
  error: string | null;
  /** Who called (see the storage notes); null when unknown. */
  caller?: string | null;
  /** The call's input, as given (redacted when written). */
  input?: unknown;
  /** The result's text (its start is kept, redacted when written). */
  result?: string | null;
}

/** A row of the trail as operators page through it. */
export interface SandboxTraceRow {
  id: number;
  at: number;
  toolUseId: string;
  tool: string;
  durationMs: number;
  bytes: number;
  error: string | null;
  caller: string | null;
  input: string | null;
  result: string | null;
}

interface PendingEntry extends TraceEntry {
  id: number;
}

const MAX_ERROR_CHARS = 300;

export class TraceLog implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  readonly #onBacklog: (() => void) | undefined;
  /** Values redacted wherever they appear in stored payloads (the sandbox's environment values). */
  readonly #secrets: () => readonly string[];
  /** Entries not yet written, oldest first, with the seq they will be stored under. */
  #pending: PendingEntry[] = [];
  #lastSeq: number | undefined;
  #settings: AuditSettings | undefined;
  #sincePrune: number | null = 0;
  #ready = false;

  constructor(
    sql: SqlStorage,
    writes: WriteBehind,
    options: { onBacklog?: () => void; secrets?: () => readonly string[] } = {},
  ) {
    this.#sql = sql;
    this.#writes = writes;
    this.#onBacklog = options.onBacklog;
    this.#secrets = options.secrets ?? (() => []);
    writes.add(this);
  }

  /** Creates (or upgrades) the tables; idempotent, run at creation and on wake. */
  init(): void {
    if (this.#ready) return;
    ensureSchema(this.#sql, SCHEMA);
    addMissingColumns(this.#sql, "sandbox_trace", { caller: "TEXT", input: "TEXT", result: "TEXT" });
    ensureSchema(this.#sql, INDEXES);
    this.#ready = true;
  }

  /** Stores the sandbox's retention (at creation). */
  configure(settings: AuditSettings): void {
    this.init();
    run(this.#sql, "DELETE FROM sandbox_audit");
    run(
      this.#sql,
      "INSERT INTO sandbox_audit VALUES (?, ?, ?)",
      settings.retentionDays,
      settings.maxRows,
      Number(settings.payloads),
    );
    this.#settings = settings;
  }

  settings(): AuditSettings {
    if (!this.#settings) {
      this.init();
      const row = first<{ retention_days: number; max_rows: number; payloads: number }>(
        this.#sql,
        "SELECT * FROM sandbox_audit",
      );
      this.#settings = row
        ? { retentionDays: row.retention_days, maxRows: row.max_rows, payloads: row.payloads === 1 }
        : DEFAULT_SANDBOX_AUDIT;
    }
    return this.#settings;
  }

  record(entry: TraceEntry): void {
    this.init();
    this.#lastSeq ??= first<{ n: number | null }>(this.#sql, "SELECT max(seq) AS n FROM sandbox_trace")?.n ?? 0;
    this.#lastSeq++;
    const payloads = this.settings().payloads;
    this.#pending.push({
      ...entry,
      id: this.#lastSeq,
      durationMs: Math.round(entry.durationMs),
      error: entry.error === null ? null : firstLine(entry.error),
      caller: entry.caller ?? null,
      input: payloads ? entry.input : undefined,
      result: payloads ? (entry.result?.slice(0, RESULT_CAPTURE_CHARS) ?? null) : null,
    });
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
    this.#writes.buffered(this.#pending.length >= FLUSH_ROWS);
  }

  hasPending(): boolean {
    return this.#pending.length > 0;
  }

  writePending(): void {
    const secrets = this.#secrets();
    for (const entry of this.#pending.map((pending) => toRow(pending, secrets))) {
      run(
        this.#sql,
        `INSERT INTO sandbox_trace (seq, at, tool_use_id, tool, duration_ms, bytes, error, caller, input, result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        entry.id,
        entry.at,
        entry.toolUseId,
        entry.tool,
        entry.durationMs,
        entry.bytes,
        entry.error,
        entry.caller,
        entry.input,
        entry.result,
      );
    }
    if (this.#sincePrune === null) return;
    this.#sincePrune += this.#pending.length;
    if (this.#sincePrune >= this.settings().maxRows * PRUNE_BACKLOG_SHARE) {
      this.#sincePrune = null;
      this.#onBacklog?.();
    }
  }

  clearPending(): void {
    this.#pending = [];
  }

  /** After the storage was wiped. */
  forget(): void {
    this.#pending = [];
    this.#lastSeq = undefined;
    this.#settings = undefined;
    this.#ready = false;
  }

  /** Deletes rows past the retention (the alarm's work). */
  prune(now: number): Pruned {
    this.init();
    this.#sincePrune = 0;
    return pruneTable(this.#sql, "sandbox_trace", "seq", this.settings(), now);
  }

  /** Whether any row is stored or buffered. */
  any(): boolean {
    this.init();
    return this.#pending.length > 0 || first(this.#sql, "SELECT 1 FROM sandbox_trace LIMIT 1") !== undefined;
  }

  /** Entries not yet written, oldest first (metrics add them to what SQLite holds). */
  buffered(): readonly TraceEntry[] {
    return this.#pending;
  }

  /** Newest first, buffered entries included. */
  recent(limit = TRACE_RETENTION): SandboxTraceRow[] {
    return this.page({ limit }).rows;
  }

  /** One page, newest first: `tool`, `status` and `session` (matched against the caller) filter. */
  page(query: Omit<TraceQuery, "limit"> & PageWindow): Page<SandboxTraceRow> {
    this.init();
    const filters: RowFilter<PendingEntry | SandboxTraceRow>[] = [];
    if (query.tool !== undefined) filters.push(equals("tool", query.tool, (row) => row.tool));
    if (query.session !== undefined) filters.push(equals("caller", query.session, (row) => row.caller ?? null));
    if (query.status === "error")
      filters.push({ where: "error IS NOT NULL", params: [], matches: (row) => row.error !== null });
    if (query.status === "ok")
      filters.push({ where: "error IS NULL", params: [], matches: (row) => row.error === null });
    const page = pageOf<PendingEntry | SandboxTraceRow>(
      { pending: this.#pending, stored: (where, params, limit) => this.#stored(where, params, limit) },
      filters,
      query,
      "seq",
    );
    const pending = new Set<unknown>(this.#pending);
    const secrets = pending.size > 0 ? this.#secrets() : [];
    return {
      ...page,
      rows: page.rows.map((row) => (pending.has(row) ? toRow(row as PendingEntry, secrets) : (row as SandboxTraceRow))),
    };
  }

  #stored(where: string, params: SqlValue[], limit: number): SandboxTraceRow[] {
    return all<SandboxTraceRow>(
      this.#sql,
      `SELECT seq AS id, at, tool_use_id AS toolUseId, tool, duration_ms AS durationMs, bytes, error, caller, input, result
       FROM sandbox_trace ${where} ORDER BY seq DESC LIMIT ?`,
      ...params,
      limit,
    );
  }
}

/** A buffered entry as it is stored: payload redacted (known secrets too) and bounded. */
function toRow(entry: PendingEntry, secrets: readonly string[]): SandboxTraceRow {
  const clean = (text: string) => redactKnown(text, secrets);
  return {
    id: entry.id,
    at: entry.at,
    toolUseId: entry.toolUseId,
    tool: entry.tool,
    durationMs: entry.durationMs,
    bytes: entry.bytes,
    error: entry.error,
    caller: entry.caller ?? null,
    input:
      entry.input === undefined
        ? null
        : boundText(clean(JSON.stringify(redactValue(entry.input)) ?? "null"), MAX_INPUT_BYTES),
    result:
      entry.result === undefined || entry.result === null
        ? null
        : boundText(
            clean(redactText(entry.result)),
            MAX_RESULT_BYTES,
            entry.bytes > MAX_RESULT_BYTES ? entry.bytes : undefined,
          ),
  };
}

/** The trace row of a finished HTTP or MCP tool call. */
export function traceEntryOf(event: ToolResultEvent, input: unknown, caller: string | null): TraceEntry {
  const text = resultText(event);
  return {
    at: Date.now(),
    toolUseId: event.tool_use_id,
    tool: event.meta.name,
    durationMs: event.meta.duration_ms,
    bytes: event.meta.bytes_out,
    error: event.result.is_error ? text : null,
    caller,
    input,
    result: text,
  };
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}

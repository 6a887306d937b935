/**
 * The tool calls of a runner's store (see ./store.ts for the whole layout):
 *   runner_calls     one row per tool use seen, in event order (`seq`)
 *   runner_verdicts  `user.tool_confirmation` verdicts by tool use id (kept when they come early)
 */

import type { ToolsetResult } from "../../src/managed-agents/runner/sandbox-tools.ts";
import type { ToolCallOutcome } from "../../src/managed-agents/runner-contract.ts";
import { all, ensureSchema, first, run } from "../../src/storage/sql.ts";

/**
 * queued: to gate and run; held: waiting for a verdict; running: in the sandbox (recorded before
 * the call); stored: result kept, to post; posted: result posted; dropped: nothing will be posted.
 */
export type CallStatus = "queued" | "held" | "running" | "stored" | "posted" | "dropped";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS runner_calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, tool_use_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    input TEXT, permission TEXT NOT NULL, status TEXT NOT NULL, answered INTEGER NOT NULL DEFAULT 0,
    result TEXT, outcome TEXT, started_at INTEGER, duration_ms INTEGER, post_tried INTEGER NOT NULL DEFAULT 0,
    posted_at INTEGER)`,
  `CREATE TABLE IF NOT EXISTS runner_verdicts (tool_use_id TEXT PRIMARY KEY, result TEXT NOT NULL)`,
];

export interface CallRow {
  seq: number;
  tool_use_id: string;
  name: string;
  input: string | null;
  permission: string;
  status: CallStatus;
  answered: number;
  result: string | null;
  outcome: ToolCallOutcome | null;
  started_at: number | null;
  duration_ms: number | null;
  post_tried: number;
  posted_at: number | null;
}

export class CallStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    ensureSchema(sql, SCHEMA);
  }

  /** Records a tool use seen for the first time (in event order); false when it was known. */
  addCall(toolUseId: string, name: string, input: unknown, permission: string): boolean {
    // Looked up first: rowsWritten also counts an upsert that wrote nothing.
    if (this.call(toolUseId)) return false;
    run(
      this.#sql,
      "INSERT INTO runner_calls (tool_use_id, name, input, permission, status) VALUES (?, ?, ?, ?, 'queued')",
      toolUseId,
      name,
      JSON.stringify(input),
      permission,
    );
    return true;
  }

  /**
   * The session's log shows a result for the call: nothing more is run or posted for it. A stored
   * result whose POST was sent is taken as ours (the POST landed, its answer was lost).
   */
  markAnswered(toolUseId: string, now: number): void {
    run(
      this.#sql,
      `UPDATE runner_calls SET answered = 1, input = NULL,
        posted_at = CASE WHEN status = 'stored' AND post_tried = 1 THEN ? ELSE posted_at END,
        status = CASE WHEN status = 'stored' AND post_tried = 1 THEN 'posted'
          WHEN status IN ('queued', 'held', 'stored') THEN 'dropped' ELSE status END
        WHERE tool_use_id = ?`,
      now,
      toolUseId,
    );
  }

  addVerdict(toolUseId: string, result: string): void {
    run(
      this.#sql,
      "INSERT INTO runner_verdicts (tool_use_id, result) VALUES (?, ?) ON CONFLICT (tool_use_id) DO NOTHING",
      toolUseId,
      result,
    );
  }

  verdict(toolUseId: string): string | undefined {
    return first<{ result: string }>(this.#sql, "SELECT result FROM runner_verdicts WHERE tool_use_id = ?", toolUseId)
      ?.result;
  }

  /** The oldest call with work left: to gate or run (`queued`) or to post (`stored`), not yet answered. */
  nextCall(): CallRow | undefined {
    return first<CallRow>(
      this.#sql,
      "SELECT * FROM runner_calls WHERE answered = 0 AND status IN ('queued', 'stored') ORDER BY seq LIMIT 1",
    );
  }

  /** Held calls whose verdict has come: back to the queue. */
  releaseHeld(): void {
    run(
      this.#sql,
      `UPDATE runner_calls SET status = 'queued' WHERE status = 'held'
        AND tool_use_id IN (SELECT tool_use_id FROM runner_verdicts)`,
    );
  }

  setStatus(toolUseId: string, status: CallStatus, outcome: ToolCallOutcome | null = null): void {
    run(
      this.#sql,
      "UPDATE runner_calls SET status = ?, outcome = COALESCE(?, outcome) WHERE tool_use_id = ?",
      status,
      outcome,
      toolUseId,
    );
  }

  running(toolUseId: string, now: number): void {
    run(this.#sql, "UPDATE runner_calls SET status = 'running', started_at = ? WHERE tool_use_id = ?", now, toolUseId);
  }

  storeResult(toolUseId: string, result: ToolsetResult, outcome: ToolCallOutcome, durationMs: number | null): void {
    run(
      this.#sql,
      `UPDATE runner_calls SET status = 'stored', result = ?, outcome = ?, duration_ms = ?, input = NULL
        WHERE tool_use_id = ? AND status = 'running'`,
      JSON.stringify(result),
      outcome,
      durationMs,
      toolUseId,
    );
  }

  postTried(toolUseId: string): void {
    run(this.#sql, "UPDATE runner_calls SET post_tried = 1 WHERE tool_use_id = ?", toolUseId);
  }

  call(toolUseId: string): CallRow | undefined {
    return first<CallRow>(this.#sql, "SELECT * FROM runner_calls WHERE tool_use_id = ?", toolUseId);
  }

  posted(toolUseId: string, now: number): void {
    run(
      this.#sql,
      "UPDATE runner_calls SET status = 'posted', posted_at = ?, result = NULL WHERE tool_use_id = ?",
      now,
      toolUseId,
    );
  }

  /** Calls recorded `running` by an earlier instance of the object (it was evicted during them). */
  interruptedCalls(): CallRow[] {
    return all<CallRow>(this.#sql, "SELECT * FROM runner_calls WHERE status = 'running' ORDER BY seq");
  }

  /** The work is no longer ours: every call not yet posted is abandoned. */
  abandonAll(): void {
    run(
      this.#sql,
      `UPDATE runner_calls SET status = 'dropped', outcome = COALESCE(outcome, 'abandoned'), input = NULL,
        result = NULL WHERE status IN ('queued', 'held', 'running', 'stored') AND answered = 0`,
    );
  }

  counts(): { answered: number; pending: number } {
    const row = first<{ answered: number; pending: number }>(
      this.#sql,
      `SELECT COALESCE(SUM(status = 'posted'), 0) AS answered,
        COALESCE(SUM(status = 'held' AND answered = 0), 0) AS pending FROM runner_calls`,
    );
    return row ?? { answered: 0, pending: 0 };
  }

  recentCalls(limit: number): CallRow[] {
    return all<CallRow>(
      this.#sql,
      "SELECT * FROM (SELECT * FROM runner_calls ORDER BY seq DESC LIMIT ?) ORDER BY seq",
      limit,
    );
  }
}

/**
 * A session runner's SQLite storage: everything it needs to carry on after an eviction.
 *
 *   runner_work   one row: the work item (its `secret` removed), the environment's configuration,
 *                 the environment key and the decoded sessions token (write-only: read only to
 *                 build request headers, never shown, logged or put in an error), the runner's
 *                 state, lease (last echoed `last_heartbeat`, when it was last extended, TTL), the
 *                 idle-exit deadline, how far the ending went (force stop wanted / done, reported).
 *   runner_calls  one row per tool use seen, in event order (`seq`): its input until answered,
 *                 permission, status (see CallStatus), the stored result until posted, outcome and
 *                 timings; `answered` once the session's log shows a result for it; `post_tried`
 *                 once a POST of its result was sent (it may have landed: look for the echo first).
 *   runner_verdicts  `user.tool_confirmation` verdicts by tool use id (kept when they come early).
 */
import type { EnvironmentConfig } from "../../src/managed-agents/environment-config.ts";
import type { Work } from "../../src/managed-agents/protocol.ts";
import type { RunnerCredentialSource } from "../../src/managed-agents/runner/credentials.ts";
import type { RunnerState } from "../../src/managed-agents/runner-contract.ts";
import { ensureSchema, first, run } from "../../src/storage/sql.ts";
import { CallStore } from "./call-store.ts";

export type { CallRow, CallStatus } from "./call-store.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS runner_work (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    work_id TEXT NOT NULL, session_id TEXT NOT NULL, work TEXT NOT NULL, environment TEXT NOT NULL,
    environment_key TEXT NOT NULL, sessions_token TEXT, token_base_url TEXT,
    state TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT, last_error TEXT,
    setup_done INTEGER NOT NULL DEFAULT 0,
    last_heartbeat TEXT, last_heartbeat_at INTEGER, lease_since INTEGER NOT NULL, ttl_seconds INTEGER,
    lease_lost INTEGER NOT NULL DEFAULT 0, idle_deadline INTEGER,
    extra_roots TEXT NOT NULL DEFAULT '[]',
    force_stop INTEGER NOT NULL DEFAULT 0, stop_done INTEGER NOT NULL DEFAULT 0, reported INTEGER NOT NULL DEFAULT 0)`,
];

export interface WorkRow {
  work_id: string;
  session_id: string;
  work: string;
  environment: string;
  environment_key: string;
  sessions_token: string | null;
  token_base_url: string | null;
  state: RunnerState;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  last_error: string | null;
  setup_done: number;
  last_heartbeat: string | null;
  last_heartbeat_at: number | null;
  lease_since: number;
  ttl_seconds: number | null;
  lease_lost: number;
  idle_deadline: number | null;
  extra_roots: string;
  force_stop: number;
  stop_done: number;
  reported: number;
}

export interface NewWork {
  work: Work;
  environment: EnvironmentConfig;
  environmentKey: string;
  sessionsToken: string | null;
  tokenBaseUrl: string | null;
  sessionId: string;
  now: number;
}

/** The work item's row; the tool calls' rows are CallStore's (./call-store.ts). */
export class RunnerStore extends CallStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    super(sql);
    this.#sql = sql;
    ensureSchema(sql, SCHEMA);
  }

  // ---- the work item ----

  load(): WorkRow | undefined {
    return first<WorkRow>(this.#sql, "SELECT * FROM runner_work WHERE id = 1");
  }

  create(item: NewWork): void {
    run(
      this.#sql,
      `INSERT INTO runner_work (id, work_id, session_id, work, environment, environment_key, sessions_token,
        token_base_url, state, started_at, lease_since) VALUES (1, ?, ?, ?, ?, ?, ?, ?, 'starting', ?, ?)`,
      item.work.id,
      item.sessionId,
      JSON.stringify({ ...item.work, secret: null }),
      JSON.stringify(item.environment),
      item.environmentKey,
      item.sessionsToken,
      item.tokenBaseUrl,
      item.now,
      item.now,
    );
  }

  environment(row: WorkRow): EnvironmentConfig {
    return JSON.parse(row.environment) as EnvironmentConfig;
  }

  credentials(): RunnerCredentialSource {
    const row = this.#required();
    return {
      apiBaseUrl: this.environment(row).apiBaseUrl,
      environmentKey: row.environment_key,
      sessionsToken: row.sessions_token,
      tokenBaseUrl: row.token_base_url,
    };
  }

  setKey(environmentKey: string): void {
    run(this.#sql, "UPDATE runner_work SET environment_key = ? WHERE id = 1", environmentKey);
  }

  setState(state: RunnerState): void {
    run(this.#sql, "UPDATE runner_work SET state = ? WHERE id = 1", state);
  }

  setupDone(extraRoots: string[]): void {
    run(
      this.#sql,
      "UPDATE runner_work SET setup_done = 1, state = 'running', extra_roots = ? WHERE id = 1 AND state = 'starting'",
      JSON.stringify(extraRoots),
    );
  }

  extraRoots(row: WorkRow): string[] {
    return JSON.parse(row.extra_roots) as string[];
  }

  recordError(message: string): void {
    run(this.#sql, "UPDATE runner_work SET last_error = ? WHERE id = 1", message);
  }

  beat(lastHeartbeat: string, ttlSeconds: number, now: number): void {
    run(
      this.#sql,
      "UPDATE runner_work SET last_heartbeat = ?, last_heartbeat_at = ?, lease_since = ?, ttl_seconds = ? WHERE id = 1",
      lastHeartbeat,
      now,
      now,
      ttlSeconds,
    );
  }

  setIdleDeadline(deadline: number | null): void {
    run(this.#sql, "UPDATE runner_work SET idle_deadline = ? WHERE id = 1", deadline);
  }

  /**
   * The work ends: nothing more is posted from now on. `forceStop` unless the lease was lost (then
   * the work is someone else's, or the API's, and is not force-stopped). The first reason stays.
   */
  beginEnding(reason: string, forceStop: boolean): void {
    run(
      this.#sql,
      `UPDATE runner_work SET state = 'ending', lease_lost = 1, force_stop = ?, idle_deadline = NULL,
        end_reason = COALESCE(end_reason, ?) WHERE id = 1 AND state IN ('starting', 'running')`,
      forceStop ? 1 : 0,
      reason,
    );
  }

  stopDone(): void {
    run(this.#sql, "UPDATE runner_work SET stop_done = 1 WHERE id = 1");
  }

  ended(now: number): void {
    run(this.#sql, "UPDATE runner_work SET state = 'ended', ended_at = ? WHERE id = 1", now);
  }

  /** The work is over: its credentials are not kept past it (the summary stays). */
  forgetCredentials(): void {
    run(
      this.#sql,
      "UPDATE runner_work SET environment_key = '', sessions_token = NULL, token_base_url = NULL WHERE id = 1",
    );
  }

  /** Everything, for new work under the same name (an item handed out again after its runner ended). */
  wipe(): void {
    for (const table of ["runner_work", "runner_calls", "runner_verdicts"]) run(this.#sql, `DELETE FROM ${table}`);
  }

  reported(): void {
    run(this.#sql, "UPDATE runner_work SET reported = 1 WHERE id = 1");
  }

  #required(): WorkRow {
    const row = this.load();
    if (!row) throw new Error("the session runner holds no work");
    return row;
  }
}

/**
 * The storage of one Managed Agents environment (its Durable Object's SQLite database):
 *
 *   documents(key, value)          JSON documents, one row each:
 *     "config"   EnvironmentConfig plus created/updated times (its presence is what "exists" means)
 *     "secrets"  EnvironmentSecrets: the environment key and webhook secret (write-only: read only to
 *                authenticate calls and to hand runners the key, never returned by any view)
 *     "health"   EnvironmentHealth: last poll and webhook, the last API error (never a secret),
 *                consecutive errors for the backoff, unhealthy when credentials were refused
 *   webhooks(id, answer, received_at)   accepted `webhook-id`s and the answer given, newest kept
 *                                       (bounded), so a replay gets the same answer and no second drain
 *   live_sessions(work_id, session_id, started_at)   claimed work whose runner has not ended:
 *                                       the count is what `max_sessions` bounds
 *
 * Plus the object's alarm: when to poll next (see ./poll-schedule.ts).
 */
import type { EnvironmentConfig, EnvironmentSecrets } from "../../src/managed-agents/environment-config.ts";
import { all, ensureSchema, first, run } from "../../src/storage/sql.ts";

/** Accepted webhook ids kept for replays: the API retries within hours, a few thousand ids cover it. */
export const MAX_SEEN_WEBHOOKS = 2000;

export interface StoredConfig extends EnvironmentConfig {
  createdAt: number;
  updatedAt: number;
}

export interface EnvironmentHealth {
  lastPollAt: number | null;
  lastWebhookAt: number | null;
  /** `401 authentication_error: …` of the last failed API call; cleared by the next success. */
  lastApiError: string | null;
  lastApiErrorAt: number | null;
  /** The API refused the environment's credentials (401/403): polling slows down until a success. */
  unhealthy: boolean;
  /** Failed polls in a row (the backoff exponent). */
  consecutiveErrors: number;
}

export interface LiveSession {
  workId: string;
  sessionId: string;
  startedAt: number;
}

const EMPTY_HEALTH: EnvironmentHealth = {
  lastPollAt: null,
  lastWebhookAt: null,
  lastApiError: null,
  lastApiErrorAt: null,
  unhealthy: false,
  consecutiveErrors: 0,
};

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  `CREATE TABLE IF NOT EXISTS webhooks (
     id TEXT PRIMARY KEY, answer TEXT NOT NULL, received_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS live_sessions (
     work_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, started_at INTEGER NOT NULL)`,
];

type DocumentKey = "config" | "secrets" | "health";

export class EnvironmentStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.ensureSchema();
  }

  /** Idempotent; again after `deleteAll`, which drops the tables too. */
  ensureSchema(): void {
    ensureSchema(this.#sql, SCHEMA);
  }

  config(): StoredConfig | null {
    return this.#read<StoredConfig>("config");
  }

  secrets(): EnvironmentSecrets | null {
    return this.#read<EnvironmentSecrets>("secrets");
  }

  health(): EnvironmentHealth {
    return { ...EMPTY_HEALTH, ...this.#read<Partial<EnvironmentHealth>>("health") };
  }

  saveConfig(config: StoredConfig): void {
    this.#write("config", config);
  }

  /** The environment no longer exists from here on (the rest is deleted with all storage after). */
  deleteConfig(): void {
    run(this.#sql, "DELETE FROM documents WHERE key = 'config'");
  }

  saveSecrets(secrets: EnvironmentSecrets): void {
    this.#write("secrets", secrets);
  }

  updateHealth(change: Partial<EnvironmentHealth>): EnvironmentHealth {
    const health = { ...this.health(), ...change };
    this.#write("health", health);
    return health;
  }

  /** The answer given to an accepted webhook id, or null when it was not seen. */
  seenWebhook(id: string): unknown {
    const row = first<{ answer: string }>(this.#sql, "SELECT answer FROM webhooks WHERE id = ?", id);
    return row ? JSON.parse(row.answer) : null;
  }

  rememberWebhook(id: string, answer: unknown, now: number): void {
    run(this.#sql, "INSERT OR IGNORE INTO webhooks VALUES (?, ?, ?)", id, JSON.stringify(answer), now);
    run(
      this.#sql,
      `DELETE FROM webhooks WHERE id NOT IN (
         SELECT id FROM webhooks ORDER BY received_at DESC, rowid DESC LIMIT ?)`,
      MAX_SEEN_WEBHOOKS,
    );
  }

  liveSessions(): LiveSession[] {
    return all<{ work_id: string; session_id: string; started_at: number }>(
      this.#sql,
      "SELECT * FROM live_sessions ORDER BY started_at, work_id",
    ).map((row) => ({ workId: row.work_id, sessionId: row.session_id, startedAt: row.started_at }));
  }

  liveCount(): number {
    return first<{ n: number }>(this.#sql, "SELECT count(*) AS n FROM live_sessions")?.n ?? 0;
  }

  isLive(workId: string): boolean {
    return first(this.#sql, "SELECT 1 FROM live_sessions WHERE work_id = ?", workId) !== undefined;
  }

  addLive(session: LiveSession): void {
    run(
      this.#sql,
      "INSERT OR IGNORE INTO live_sessions VALUES (?, ?, ?)",
      session.workId,
      session.sessionId,
      session.startedAt,
    );
  }

  /** False when the work was not live (a repeated `runnerEnded`). */
  removeLive(workId: string): boolean {
    return run(this.#sql, "DELETE FROM live_sessions WHERE work_id = ?", workId) > 0;
  }

  #read<T>(key: DocumentKey): T | null {
    const row = first<{ value: string }>(this.#sql, "SELECT value FROM documents WHERE key = ?", key);
    return row ? (JSON.parse(row.value) as T) : null;
  }

  #write(key: DocumentKey, value: unknown): void {
    run(this.#sql, "INSERT OR REPLACE INTO documents VALUES (?, ?)", key, JSON.stringify(value));
  }
}

import { all, ensureSchema, first, run } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";
import type { SandboxBackend, SandboxSettings } from "./options.ts";

/**
 * A sandbox's own record of itself, next to its files in the same SQLite database.
 *
 * Storage:
 *   sandbox_meta(id, created_at, last_activity, ttl_seconds, quota_bytes, network_allow JSON, env JSON, creator) —
 *     one row; its presence is what "the sandbox exists" means. `env` holds the exported variables
 *     every fresh shell starts with (also after `restart`); `creator` is the API token id that
 *     created the sandbox (null for the admin token).
 *     Added later (by ALTER TABLE on wake in tables created before, see MIGRATIONS): `backend` JSON (SandboxBackend; NULL in rows
 *     written before gateway sandboxes existed, which are edge sandboxes), `executor_instance` and
 *     `executor_gateway` (a gateway sandbox's pin: the executor instance holding its workspace and
 *     the gateway that last served it; NULL until the executor first answered).
 *   sandbox_tokens(hash, created_at) — SHA-256 of every sandbox token issued (each create call on an
 *     existing id mints one more). A token's public id is the first TOKEN_ID_CHARS hex digits of its
 *     hash (`sbt_…`): enough to list and revoke it, nothing to derive the secret from. A token is
 *     valid until it is revoked or the sandbox is destroyed.
 *
 * The schema is created by `create` only: asking about a sandbox that does not exist must not leave
 * empty tables behind in an object nobody created.
 *
 * The record and the token hashes are read once per wake and kept in memory (every change goes
 * through this class, so the copies stay exact): admitting a call costs no SQL. Last activity is
 * written behind (src/storage/write-behind.ts): a call never waits for that write, and an
 * eviction loses at most the last second of it, which only shortens the TTL by as much.
 */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sandbox_meta (
     id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, last_activity INTEGER NOT NULL,
     ttl_seconds INTEGER NOT NULL, quota_bytes INTEGER NOT NULL, network_allow TEXT NOT NULL, env TEXT NOT NULL, creator TEXT,
     backend TEXT, executor_instance TEXT, executor_gateway TEXT)`,
  `CREATE TABLE IF NOT EXISTS sandbox_tokens (hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL)`,
];

/** Columns added after the table's first version, each with the statement that adds it. */
const MIGRATIONS: readonly (readonly [column: string, statement: string])[] = [
  ["backend", "ALTER TABLE sandbox_meta ADD COLUMN backend TEXT"],
  ["executor_instance", "ALTER TABLE sandbox_meta ADD COLUMN executor_instance TEXT"],
  ["executor_gateway", "ALTER TABLE sandbox_meta ADD COLUMN executor_gateway TEXT"],
];

export interface SandboxMeta {
  id: string;
  createdAt: number;
  lastActivity: number;
  ttlSeconds: number;
  quotaBytes: number;
  networkAllow: string[];
  env: Record<string, string>;
  creator: string | null;
  backend: SandboxBackend;
  /** A gateway sandbox's pin (see the storage notes); null for edge sandboxes and before first contact. */
  executor: ExecutorPin | null;
}

export interface ExecutorPin {
  instance: string;
  gatewayId: string;
}

interface MetaRow {
  id: string;
  created_at: number;
  last_activity: number;
  ttl_seconds: number;
  quota_bytes: number;
  network_allow: string;
  env: string;
  creator: string | null;
  backend: string | null;
  executor_instance: string | null;
  executor_gateway: string | null;
}

/** Hex digits of a token's hash that make its public id (64 bits: no collisions among one sandbox's tokens). */
const TOKEN_ID_CHARS = 16;

export interface SandboxTokenInfo {
  id: string;
  createdAt: number;
}

/** The public id of a sandbox token, from its hash. */
export function sandboxTokenId(hash: string): string {
  return `sbt_${hash.slice(0, TOKEN_ID_CHARS)}`;
}

/** Activity is recorded to the second (the TTL is counted in seconds, not milliseconds). */
const ACTIVITY_RESOLUTION_MS = 1_000;

export class MetaStore implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  #meta: SandboxMeta | null | undefined;
  #tokens: Set<string> | undefined;
  /** A last activity newer than the stored one is waiting to be written. */
  #activityPending = false;

  constructor(sql: SqlStorage, writes: WriteBehind) {
    this.#sql = sql;
    this.#writes = writes;
    writes.add(this);
  }

  /** The sandbox's record, or null when it does not exist (never created, or destroyed). */
  load(): SandboxMeta | null {
    if (this.#meta !== undefined) return this.#meta;
    const table = first<{ sql: string }>(
      this.#sql,
      "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sandbox_meta'",
    );
    if (table) migrate(this.#sql, table.sql);
    const row = table ? first<MetaRow>(this.#sql, "SELECT * FROM sandbox_meta") : undefined;
    this.#meta = row ? fromRow(row) : null;
    return this.#meta;
  }

  /**
   * Reads the record from storage again, pending activity written first (the alarm decides on
   * what storage says, which is also what survives an eviction).
   */
  reload(): SandboxMeta | null {
    this.#writes.flush();
    this.#meta = undefined;
    this.#tokens = undefined;
    return this.load();
  }

  create(settings: SandboxSettings, creator: string | null, now: number): SandboxMeta {
    ensureSchema(this.#sql, SCHEMA);
    const table = first<{ sql: string }>(this.#sql, "SELECT sql FROM sqlite_master WHERE name = 'sandbox_meta'");
    if (table) migrate(this.#sql, table.sql);
    const { id, ttlSeconds, quotaBytes, networkAllow, env, backend } = settings;
    run(
      this.#sql,
      `INSERT INTO sandbox_meta (id, created_at, last_activity, ttl_seconds, quota_bytes, network_allow, env, creator, backend)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      now,
      now,
      ttlSeconds,
      quotaBytes,
      JSON.stringify(networkAllow),
      JSON.stringify(env),
      creator,
      JSON.stringify(backend),
    );
    this.#meta = {
      id,
      createdAt: now,
      lastActivity: now,
      ttlSeconds,
      quotaBytes,
      networkAllow,
      env,
      creator,
      backend,
      executor: null,
    };
    this.#tokens = new Set();
    return this.#meta;
  }

  /** Records activity at `now` (the alarm measures the TTL from the last one); written behind. */
  touch(now: number): void {
    const meta = this.load();
    if (!meta || now - meta.lastActivity < ACTIVITY_RESOLUTION_MS) return;
    meta.lastActivity = now;
    this.#activityPending = true;
    this.#writes.buffered();
  }

  /** Pins a gateway sandbox to the executor instance that answered (written at once: it locates the workspace). */
  pinExecutor(pin: ExecutorPin): void {
    const meta = this.load();
    if (!meta || (meta.executor?.instance === pin.instance && meta.executor.gatewayId === pin.gatewayId)) return;
    run(this.#sql, "UPDATE sandbox_meta SET executor_instance = ?, executor_gateway = ?", pin.instance, pin.gatewayId);
    meta.executor = pin;
  }

  addToken(hash: string, now: number): void {
    run(this.#sql, "INSERT OR IGNORE INTO sandbox_tokens VALUES (?, ?)", hash, now);
    this.#tokens?.add(hash);
  }

  /** Every live token, oldest first (ids and dates only: the hashes stay inside). */
  listTokens(): SandboxTokenInfo[] {
    return all<{ hash: string; created_at: number }>(
      this.#sql,
      "SELECT hash, created_at FROM sandbox_tokens ORDER BY created_at, hash",
    ).map((row) => ({ id: sandboxTokenId(row.hash), createdAt: row.created_at }));
  }

  /** Revokes the token with public id `id`; false when there is none. */
  revokeToken(id: string): boolean {
    const prefix = id.startsWith("sbt_") ? id.slice(4) : "";
    if (prefix.length !== TOKEN_ID_CHARS) return false;
    const row = first<{ hash: string }>(
      this.#sql,
      "SELECT hash FROM sandbox_tokens WHERE substr(hash, 1, ?) = ?",
      TOKEN_ID_CHARS,
      prefix,
    );
    if (!row) return false;
    run(this.#sql, "DELETE FROM sandbox_tokens WHERE hash = ?", row.hash);
    this.#tokens?.delete(row.hash);
    return true;
  }

  hasToken(hash: string): boolean {
    this.#tokens ??= new Set(
      all<{ hash: string }>(this.#sql, "SELECT hash FROM sandbox_tokens").map((row) => row.hash),
    );
    return this.#tokens.has(hash);
  }

  hasPending(): boolean {
    return this.#activityPending;
  }

  writePending(): void {
    if (this.#meta) run(this.#sql, "UPDATE sandbox_meta SET last_activity = ?", this.#meta.lastActivity);
  }

  clearPending(): void {
    this.#activityPending = false;
  }

  /** Forgets the cached record (after the storage was deleted). */
  forget(): void {
    this.#meta = null;
    this.#tokens = undefined;
    this.#activityPending = false;
  }
}

function fromRow(row: MetaRow): SandboxMeta {
  return {
    id: row.id,
    createdAt: row.created_at,
    lastActivity: row.last_activity,
    ttlSeconds: row.ttl_seconds,
    quotaBytes: row.quota_bytes,
    networkAllow: JSON.parse(row.network_allow) as string[],
    env: JSON.parse(row.env) as Record<string, string>,
    creator: row.creator,
    backend: row.backend === null ? { type: "edge" } : (JSON.parse(row.backend) as SandboxBackend),
    executor:
      row.executor_instance === null
        ? null
        : { instance: row.executor_instance, gatewayId: row.executor_gateway ?? "" },
  };
}

/** Adds the columns a table created by an older version lacks (idempotent: runs on every wake). */
function migrate(sql: SqlStorage, createStatement: string): void {
  for (const [column, statement] of MIGRATIONS) {
    if (!new RegExp(`\\b${column}\\b`).test(createStatement)) sql.exec(statement);
  }
}

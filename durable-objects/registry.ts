import { DurableObject } from "cloudflare:workers";
import type { OperatorActionInput, OperatorActionRow } from "../src/audit/operator-action.ts";
import { PRUNE_EVERY_MS } from "../src/audit/retention.ts";
import type { Page } from "../src/audit/trace-query.ts";
import type { Operator } from "../src/auth/operator.ts";
import { hashToken, newToken, parseToken, timingSafeEqual } from "../src/auth/tokens.ts";
import { alarmNoLaterThan } from "../src/storage/alarm.ts";
import { all, ensureSchema, first, run } from "../src/storage/sql.ts";
import type { Env } from "../workers/env.ts";
import { type OperatorActionQuery, OperatorActionStore } from "./registry/operator-actions.ts";
import { consumeSignInLink, SIGN_IN_LINKS_SCHEMA, storeSignInLink } from "./registry/sign-in-links.ts";
import { DEFAULT_BACKEND_SCOPE } from "./sandbox/backend-scope.ts";

/**
 * The one global index (addressed by the name "global"): which tunnels and sandboxes exist, so
 * operators can list them. Each tunnel and sandbox keeps its own state in its own Durable Object;
 * this only holds names.
 *
 * It also keeps the API tokens operators mint for orchestrators (`tth.api.<id>.<secret>`): only
 * their SHA-256 hash is stored, and a revoked token keeps its row (revoked_at set) so listings
 * show what happened to it.
 *
 * Storage: entries(kind, name, created_at) — kind is "tunnel", "sandbox" or "environment";
 *          api_tokens(id, hash, label, created_at, revoked_at, backends) — `backends` is the token's
 *          backend scope as JSON (sandbox/backend-scope.ts); NULL (tokens minted before scopes, or
 *          without one) means the default, the edge only. Added by ALTER TABLE on older databases.
 *          operator_actions: the operator actions of the audit trail (registry/operator-actions.ts),
 *          pruned by this object's alarm.
 *          sign_in_links: one-time console sign-in codes, hashed (registry/sign-in-links.ts).
 */
export type RegistryKind = "tunnel" | "sandbox" | "environment";

export interface RegistryEntry {
  name: string;
  createdAt: number;
}

/** An API token as listed: never its secret or hash. */
export interface ApiTokenInfo {
  id: string;
  label: string;
  createdAt: number;
  revokedAt: number | null;
  /** Where its sandboxes may run (sandbox/backend-scope.ts). */
  backends: string[];
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS entries (
     kind TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
     PRIMARY KEY (kind, name))`,
  `CREATE TABLE IF NOT EXISTS api_tokens (
     id TEXT PRIMARY KEY, hash TEXT NOT NULL, label TEXT NOT NULL,
     created_at INTEGER NOT NULL, revoked_at INTEGER, backends TEXT)`,
  ...SIGN_IN_LINKS_SCHEMA,
];

interface ApiTokenRow {
  id: string;
  hash: string;
  label: string;
  created_at: number;
  revoked_at: number | null;
  backends: string | null;
}

export class Registry extends DurableObject<Env> {
  readonly #actions: OperatorActionStore;
  /** Whether this instance made sure the alarm will prune what it records. */
  #pruneArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureSchema(ctx.storage.sql, SCHEMA);
    this.#actions = new OperatorActionStore(ctx.storage.sql);
    const table = first<{ sql: string }>(ctx.storage.sql, "SELECT sql FROM sqlite_master WHERE name = 'api_tokens'");
    if (table && !/\bbackends\b/.test(table.sql))
      ctx.storage.sql.exec("ALTER TABLE api_tokens ADD COLUMN backends TEXT");
  }

  /** Adds a name; false when it already existed. */
  add(kind: RegistryKind, name: string): boolean {
    return run(this.ctx.storage.sql, "INSERT OR IGNORE INTO entries VALUES (?, ?, ?)", kind, name, Date.now()) > 0;
  }

  remove(kind: RegistryKind, name: string): boolean {
    return run(this.ctx.storage.sql, "DELETE FROM entries WHERE kind = ? AND name = ?", kind, name) > 0;
  }

  has(kind: RegistryKind, name: string): boolean {
    return first(this.ctx.storage.sql, "SELECT 1 FROM entries WHERE kind = ? AND name = ?", kind, name) !== undefined;
  }

  list(kind: RegistryKind): RegistryEntry[] {
    return all<{ name: string; created_at: number }>(
      this.ctx.storage.sql,
      "SELECT name, created_at FROM entries WHERE kind = ? ORDER BY name",
      kind,
    ).map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  /** Records an operator action (src/audit/operator-action.ts validated and redacted it). */
  async recordOperatorAction(operator: string, input: OperatorActionInput): Promise<OperatorActionRow> {
    const row = this.#actions.record(operator, input, Date.now());
    if (!this.#pruneArmed) {
      this.#pruneArmed = true;
      await alarmNoLaterThan(this.ctx.storage, Date.now() + PRUNE_EVERY_MS);
    }
    return row;
  }

  /** One page of operator actions, newest first. */
  operatorActions(query: OperatorActionQuery): Page<OperatorActionRow> {
    return this.#actions.page(query);
  }

  /** Prunes the operator actions past their retention; re-arms while there are any. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#actions.prune(now);
    if (this.#actions.any()) await this.ctx.storage.setAlarm(now + PRUNE_EVERY_MS);
  }

  /** Mints an API token; the secret is returned here once and never again. */
  async createApiToken(
    label: string,
    backends: readonly string[] = DEFAULT_BACKEND_SCOPE,
  ): Promise<ApiTokenInfo & { token: string }> {
    const id = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
    const token = newToken("api", id);
    const createdAt = Date.now();
    run(
      this.ctx.storage.sql,
      "INSERT INTO api_tokens (id, hash, label, created_at, revoked_at, backends) VALUES (?, ?, ?, ?, NULL, ?)",
      id,
      await hashToken(token),
      label,
      createdAt,
      JSON.stringify(backends),
    );
    return { id, label, createdAt, revokedAt: null, backends: [...backends], token };
  }

  listApiTokens(): ApiTokenInfo[] {
    return all<ApiTokenRow>(this.ctx.storage.sql, "SELECT * FROM api_tokens ORDER BY created_at, id").map(toInfo);
  }

  /** Revokes a token; false when no live token has that id. */
  revokeApiToken(id: string): boolean {
    const sql = this.ctx.storage.sql;
    return run(sql, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id) > 0;
  }

  /** The id of the live API token `token` is, or null (unknown, revoked, or wrong secret). */
  async verifyApiToken(token: string): Promise<string | null> {
    return (await this.verifyApiTokenScope(token))?.id ?? null;
  }

  /** The live API token `token` is, with its backend scope, or null (unknown, revoked, or wrong secret). */
  async verifyApiTokenScope(token: string): Promise<{ id: string; backends: string[] } | null> {
    const parsed = parseToken(token);
    if (parsed?.kind !== "api") return null;
    const row = first<ApiTokenRow>(this.ctx.storage.sql, "SELECT * FROM api_tokens WHERE id = ?", parsed.scope);
    if (!row || row.revoked_at !== null) return null;
    return timingSafeEqual(await hashToken(token), row.hash) ? { id: row.id, backends: toInfo(row).backends } : null;
  }

  /** Keeps a one-time console sign-in code (its hash only) for `operator` until `expiresAt`. */
  addSignInLink(hash: string, operator: Operator, expiresAt: number): void {
    storeSignInLink(this.ctx.storage.sql, hash, operator, expiresAt);
  }

  /** Uses up a sign-in code: its operator, or null when unknown, used or expired. */
  useSignInLink(hash: string): Operator | null {
    return consumeSignInLink(this.ctx.storage.sql, hash);
  }
}

function toInfo(row: ApiTokenRow): ApiTokenInfo {
  return {
    id: row.id,
    label: row.label,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    backends: row.backends === null ? [...DEFAULT_BACKEND_SCOPE] : (JSON.parse(row.backends) as string[]),
  };
}

export function registry(env: Env): DurableObjectStub<Registry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName("global"));
}

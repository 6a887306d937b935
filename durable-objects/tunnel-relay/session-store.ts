/**
 * MCP sessions relayed through the tunnel (table `sessions`, see ./storage.ts). A session is
 * recorded when an upstream answers `initialize` with an Mcp-Session-Id; from then on only the
 * agent token that created it may use it, and it sticks to the gateway that served it.
 *
 * Every call in a session looks its session up, so sessions read once are kept in memory (a
 * bounded map, updated by every change made here: record, remove, prune). Creating and ending a
 * session are written at once; the last-use time, refreshed at most every TOUCH_EVERY_MS per
 * session, is written behind (src/storage/write-behind.ts) with the call traces.
 */
import { all, first, run } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";

export interface SessionRecord {
  server: string;
  id: string;
  tokenId: string;
  gatewayId: string;
  clientName: string | null;
  clientVersion: string | null;
  protocolVersion: string | null;
  createdAt: number;
  lastUsedAt: number;
}

export interface SessionRow {
  server: string;
  id: string;
  token_id: string;
  gateway_id: string;
  client_name: string | null;
  client_version: string | null;
  protocol_version: string | null;
  created_at: number;
  last_used_at: number;
}

/** last_used_at (of a session, and of a token) is refreshed at most this often, so a busy one does not cost a write per call. */
export const TOUCH_EVERY_MS = 60_000;
/** Sessions kept in memory; the least recently looked-up ones are dropped beyond this. */
const CACHED_SESSIONS = 4096;

const key = (server: string, id: string) => `${server}\n${id}`;

export class SessionStore implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  /** Known sessions by key, in lookup order (oldest first), so the first ones go when it is full. */
  readonly #cache = new Map<string, SessionRecord>();
  /** Last-use times not written yet, by key. */
  readonly #touched = new Map<string, SessionRecord>();

  constructor(sql: SqlStorage, writes: WriteBehind) {
    this.#sql = sql;
    this.#writes = writes;
    writes.add(this);
  }

  record(session: SessionRecord): void {
    run(
      this.#sql,
      "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      session.server,
      session.id,
      session.tokenId,
      session.gatewayId,
      session.clientName,
      session.clientVersion,
      session.protocolVersion,
      session.createdAt,
      session.lastUsedAt,
    );
    this.#touched.delete(key(session.server, session.id));
    this.#remember(session);
  }

  get(server: string, id: string): SessionRecord | null {
    const k = key(server, id);
    const cached = this.#cache.get(k);
    if (cached) {
      // Refresh its place in the lookup order.
      this.#cache.delete(k);
      this.#cache.set(k, cached);
      return cached;
    }
    const row = first<SessionRow>(this.#sql, "SELECT * FROM sessions WHERE server = ? AND id = ?", server, id);
    if (!row) return null;
    const session = toRecord(row);
    this.#remember(session);
    return session;
  }

  /** Notes a use of the session; the new time is written behind, at most every TOUCH_EVERY_MS. */
  touch(session: SessionRecord, now: number): void {
    if (now - session.lastUsedAt < TOUCH_EVERY_MS) return;
    const touched = { ...session, lastUsedAt: now };
    const k = key(session.server, session.id);
    if (this.#cache.has(k)) this.#cache.set(k, touched);
    this.#touched.set(k, touched);
    this.#writes.buffered();
  }

  remove(server: string, id: string): void {
    run(this.#sql, "DELETE FROM sessions WHERE server = ? AND id = ?", server, id);
    this.#cache.delete(key(server, id));
    this.#touched.delete(key(server, id));
  }

  /** The most recently used sessions, last-use times not yet written included. */
  list(limit: number): SessionRecord[] {
    const stored = all<SessionRow>(this.#sql, "SELECT * FROM sessions ORDER BY last_used_at DESC LIMIT ?", limit);
    const sessions = stored.map((row) => this.#touched.get(key(row.server, row.id)) ?? toRecord(row));
    // A touched session may rank above the stored ones it was not among.
    const listed = new Set(stored.map((row) => key(row.server, row.id)));
    for (const [k, session] of this.#touched) if (!listed.has(k)) sessions.push(session);
    return sessions.sort((a, b) => b.lastUsedAt - a.lastUsedAt).slice(0, limit);
  }

  hasPending(): boolean {
    return this.#touched.size > 0;
  }

  writePending(): void {
    for (const session of this.#touched.values()) {
      run(
        this.#sql,
        "UPDATE sessions SET last_used_at = ? WHERE server = ? AND id = ?",
        session.lastUsedAt,
        session.server,
        session.id,
      );
    }
  }

  clearPending(): void {
    this.#touched.clear();
  }

  /** Drops what is kept in memory after the storage was wiped. */
  forget(): void {
    this.#cache.clear();
    this.#touched.clear();
  }

  count(): number {
    return first<{ n: number }>(this.#sql, "SELECT count(*) AS n FROM sessions")?.n ?? 0;
  }

  /** Deletes sessions unused since `before` (write pending last-use times first); returns how many went. */
  pruneIdle(before: number): number {
    const pruned = run(this.#sql, "DELETE FROM sessions WHERE last_used_at < ?", before);
    if (pruned > 0) this.#cache.clear();
    return pruned;
  }

  #remember(session: SessionRecord): void {
    const k = key(session.server, session.id);
    this.#cache.delete(k);
    this.#cache.set(k, session);
    if (this.#cache.size > CACHED_SESSIONS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }
}

export function toRecord(row: SessionRow): SessionRecord {
  return {
    server: row.server,
    id: row.id,
    tokenId: row.token_id,
    gatewayId: row.gateway_id,
    clientName: row.client_name,
    clientVersion: row.client_version,
    protocolVersion: row.protocol_version,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

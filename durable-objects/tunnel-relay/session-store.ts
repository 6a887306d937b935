/**
 * MCP sessions relayed through the tunnel (table `sessions`, see ./storage.ts). A session is
 * recorded when an upstream answers `initialize` with an Mcp-Session-Id; from then on only the
 * agent token that created it may use it, and it sticks to the gateway that served it.
 */
import { all, first, run } from "../../src/storage/sql.ts";

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

interface SessionRow {
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

/** last_used_at is refreshed at most this often, so a busy session does not cost a write per call. */
const TOUCH_EVERY_MS = 60_000;

export class SessionStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
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
  }

  get(server: string, id: string): SessionRecord | null {
    const row = first<SessionRow>(this.#sql, "SELECT * FROM sessions WHERE server = ? AND id = ?", server, id);
    return row ? toRecord(row) : null;
  }

  touch(session: SessionRecord, now: number): void {
    if (now - session.lastUsedAt < TOUCH_EVERY_MS) return;
    run(this.#sql, "UPDATE sessions SET last_used_at = ? WHERE server = ? AND id = ?", now, session.server, session.id);
  }

  remove(server: string, id: string): void {
    run(this.#sql, "DELETE FROM sessions WHERE server = ? AND id = ?", server, id);
  }

  list(limit: number): SessionRecord[] {
    return all<SessionRow>(this.#sql, "SELECT * FROM sessions ORDER BY last_used_at DESC LIMIT ?", limit).map(toRecord);
  }

  count(): number {
    return first<{ n: number }>(this.#sql, "SELECT count(*) AS n FROM sessions")?.n ?? 0;
  }

  /** Deletes sessions unused since `before`; returns how many went. */
  pruneIdle(before: number): number {
    return run(this.#sql, "DELETE FROM sessions WHERE last_used_at < ?", before);
  }
}

function toRecord(row: SessionRow): SessionRecord {
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

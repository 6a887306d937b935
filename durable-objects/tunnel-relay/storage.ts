/**
 * Storage of one tunnel. Each tunnel is one TunnelRelay Durable Object, addressed by the tunnel's
 * name; everything that must outlive an eviction lives in its SQLite database:
 *
 *   tunnel    (name PK, created_at, settings JSON)            one row; the tunnel exists iff it is there
 *   tokens    (id PK, role, hash UNIQUE, created_at, revoked_at, last_used_at written behind)
 *             SHA-256 hashes of gateway/agent tokens, never the tokens; a revoked row stays (revoked_at set)
 *   sessions  (server, id, token_id, gateway_id, client_name, client_version, protocol_version,
 *              created_at, last_used_at)  PK (server, id)
 *             MCP sessions seen in initialize responses; pruned after SESSION_IDLE_MS without use
 *   traces    (id INTEGER PK, at, server, http_method, rpc_method, tool, session_id, gateway_id,
 *              token_id, status, duration_ms, bytes_in, bytes_out, error, args, result)
 *             the tunnel's audit trail: one row per relayed call (agents' and sandboxes' executor
 *             calls), pruned by the alarm by age and row count (settings.audit, src/audit/retention.ts);
 *             args/result (redacted, bounded) only when settings.audit.payloads is on. Indexed by
 *             time and by each filter operators page with (./trace-query.ts). args/result were added
 *             later: older databases get them by ALTER TABLE on wake.
 *   workspace_deletions (executor, instance, sandbox_id, reason, at)  PK (executor, sandbox_id)
 *             executor workspaces of deleted sandboxes that could not be removed yet (./executor-calls.ts)
 *
 * Written at once: the tunnel row, tokens, a session's creation and end. Written behind, in one
 * transaction at most a second later (src/storage/write-behind.ts): traces, and sessions' and
 * tokens' last-use times, so no relayed call waits for a disk write; an eviction may lose the last second of those.
 * Tokens and sessions that were read are also kept in memory (every change goes through this
 * object, which updates its maps together with SQLite).
 *
 * Deliberately NOT in SQLite:
 *   - gateway connections: the hibernatable WebSockets are the source of truth; per-socket metadata
 *     (token id, Hello, stream-id ceiling, busy flag) is the socket's attachment (./gateway-connection.ts);
 *   - streams in flight: memory only. A relayed call holds an open request to this object, so it
 *     cannot hibernate under one; if the object is evicted anyway the agent's response stream breaks
 *     (an error, never a hang) and the gateway socket that carried it is closed on the next wake.
 *
 * Nothing is created for a name until `create`: probing an unknown name (a bad token, an admin
 * typo) leaves no storage behind. The schema is idempotent and re-applied on wake.
 */
import { addMissingColumns, ensureSchema, first } from "../../src/storage/sql.ts";

export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS tunnel (
     name TEXT PRIMARY KEY, created_at INTEGER NOT NULL, settings TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS tokens (
     id TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL, revoked_at INTEGER)`,
  `CREATE TABLE IF NOT EXISTS sessions (
     server TEXT NOT NULL, id TEXT NOT NULL, token_id TEXT NOT NULL, gateway_id TEXT NOT NULL,
     client_name TEXT, client_version TEXT, protocol_version TEXT,
     created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL,
     PRIMARY KEY (server, id))`,
  // Paging sessions newest-used first, all or one server's (./session-page.ts); the first also
  // serves pruning by last use, so the older single-column index is dropped (one write less per touch).
  `CREATE INDEX IF NOT EXISTS sessions_by_use_key ON sessions (last_used_at, server, id)`,
  `DROP INDEX IF EXISTS sessions_by_use`,
  `CREATE INDEX IF NOT EXISTS sessions_by_server_use ON sessions (server, last_used_at, id)`,
  `CREATE TABLE IF NOT EXISTS traces (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, server TEXT NOT NULL,
     http_method TEXT NOT NULL, rpc_method TEXT, tool TEXT, session_id TEXT, gateway_id TEXT,
     token_id TEXT, status INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
     bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, error TEXT, args TEXT, result TEXT)`,
  `CREATE TABLE IF NOT EXISTS workspace_deletions (
     executor TEXT NOT NULL, instance TEXT NOT NULL, sandbox_id TEXT NOT NULL, reason TEXT NOT NULL,
     at INTEGER NOT NULL, PRIMARY KEY (executor, sandbox_id))`,
];

/** True when this object holds a tunnel (its schema was created by `create`). */
export function hasTunnelSchema(sql: SqlStorage): boolean {
  return first(sql, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tunnel'") !== undefined;
}

/** Indexes of the audit trail, created after older databases got the new columns. */
const TRACE_INDEXES = [
  `CREATE INDEX IF NOT EXISTS traces_by_at ON traces (at)`,
  `CREATE INDEX IF NOT EXISTS traces_by_server ON traces (server, id)`,
  `CREATE INDEX IF NOT EXISTS traces_by_tool ON traces (tool, id)`,
  `CREATE INDEX IF NOT EXISTS traces_by_session ON traces (session_id, id)`,
  `CREATE INDEX IF NOT EXISTS traces_failed ON traces (id) WHERE error IS NOT NULL OR status >= 400 OR status = 0`,
];

export function applySchema(sql: SqlStorage): void {
  ensureSchema(sql, SCHEMA);
  addMissingColumns(sql, "traces", { args: "TEXT", result: "TEXT" });
  addMissingColumns(sql, "tokens", { last_used_at: "INTEGER" });
  ensureSchema(sql, TRACE_INDEXES);
}

/**
 * Operators page through a tunnel's MCP sessions, most recently used first, all or one server's.
 * The cursor is the last row's (last_used_at, server, id), compared as a row value, so every page
 * is one index range scan (sessions_by_use_key / sessions_by_server_use, ./storage.ts): fast with
 * tens of thousands of sessions, no OFFSET, no full scan. Last-use times still buffered are written
 * first (the caller flushes), so the order is the stored one.
 */
import type { Page, SessionQuery } from "../../src/audit/trace-query.ts";
import { base64urlEncode, base64urlJson } from "../../src/auth/base64url.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { all, type SqlValue } from "../../src/storage/sql.ts";
import { type SessionRecord, type SessionRow, toRecord } from "./session-store.ts";

interface Cursor {
  lastUsedAt: number;
  server: string;
  id: string;
}

export function sessionPage(sql: SqlStorage, query: SessionQuery): Page<SessionRecord> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (query.server !== undefined) {
    where.push("server = ?");
    params.push(query.server);
  }
  if (query.before !== undefined) {
    const cursor = decodeCursor(query.before);
    where.push("(last_used_at, server, id) < (?, ?, ?)");
    params.push(cursor.lastUsedAt, cursor.server, cursor.id);
  }
  const rows = all<SessionRow>(
    sql,
    `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY last_used_at DESC, server DESC, id DESC LIMIT ?`,
    ...params,
    query.limit + 1,
  );
  const page = rows.slice(0, query.limit).map(toRecord);
  const last = page.at(-1);
  return { rows: page, next: rows.length > query.limit && last ? encodeCursor(last) : null };
}

function encodeCursor(session: SessionRecord): string {
  return base64urlEncode(new TextEncoder().encode(JSON.stringify([session.lastUsedAt, session.server, session.id])));
}

function decodeCursor(cursor: string): Cursor {
  const value = base64urlJson(cursor);
  if (Array.isArray(value)) {
    const [lastUsedAt, server, id] = value as unknown[];
    if (typeof lastUsedAt === "number" && typeof server === "string" && typeof id === "string") {
      return { lastUsedAt, server, id };
    }
  }
  throw new TetherError("bad_request", "invalid session cursor: pass the `next` of the previous page");
}

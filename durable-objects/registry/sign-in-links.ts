/**
 * One-time console sign-in links (`npm start` prints one): the Registry keeps only the SHA-256 of
 * each code, when it expires and which operator minted it. Consuming deletes the row in the same
 * statement that reads it, so a code works once even when two requests race.
 *
 * Storage: sign_in_links(hash TEXT PRIMARY KEY, operator TEXT (JSON), expires_at INTEGER)
 */
import { type Operator, OperatorSchema } from "../../src/auth/operator.ts";
import { first, run } from "../../src/storage/sql.ts";

export const SIGN_IN_LINK_TTL_MS = 10 * 60 * 1000;

export const SIGN_IN_LINKS_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sign_in_links (
     hash TEXT PRIMARY KEY, operator TEXT NOT NULL, expires_at INTEGER NOT NULL)`,
];

/** Stores a code's hash; expired codes are dropped on the way (there are only ever a few). */
export function storeSignInLink(sql: SqlStorage, hash: string, operator: Operator, expiresAt: number): void {
  run(sql, "DELETE FROM sign_in_links WHERE expires_at <= ?", Date.now());
  run(
    sql,
    "INSERT INTO sign_in_links (hash, operator, expires_at) VALUES (?, ?, ?)",
    hash,
    JSON.stringify(operator),
    expiresAt,
  );
}

/** The operator the code was minted for, once: null when unknown, used or expired. */
export function consumeSignInLink(sql: SqlStorage, hash: string, now = Date.now()): Operator | null {
  const row = first<{ operator: string; expires_at: number }>(
    sql,
    "DELETE FROM sign_in_links WHERE hash = ? RETURNING operator, expires_at",
    hash,
  );
  if (!row || row.expires_at <= now) return null;
  const operator = OperatorSchema.safeParse(JSON.parse(row.operator));
  return operator.success ? operator.data : null;
}

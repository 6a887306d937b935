/**
 * The tunnel's gateway and agent tokens (table `tokens`, see ./storage.ts). A token is shown once,
 * when issued; only its SHA-256 hash is kept. Lookups go by hash: the first use of a token reads
 * its row, later uses hit an in-memory map. Every change to a token happens in this object and
 * goes through here, so revoking drops the token from the map at once and its next use fails.
 * Only live tokens are kept in the map (unknown hashes are not remembered, so guessing costs no
 * memory). Revocation keeps the row so operators can see what happened to a token.
 *
 * Each accepted use notes the token's last use, to the minute, written behind like a session's
 * (../../src/storage/write-behind.ts): a busy token costs no write per call.
 */
import { z } from "zod";
import { hashToken, newToken, type TokenKind } from "../../src/auth/tokens.ts";
import { all, first, run } from "../../src/storage/sql.ts";
import type { BufferedWrites, WriteBehind } from "../../src/storage/write-behind.ts";
import { TOUCH_EVERY_MS } from "./session-store.ts";

export const TokenRoleSchema = z.enum(["gateway", "agent"]);
export type TokenRole = z.infer<typeof TokenRoleSchema>;

const KIND: Record<TokenRole, TokenKind> = { gateway: "gw", agent: "ag" };

/** A token as operators see it: never the token or its hash. */
export interface TokenInfo {
  id: string;
  role: TokenRole;
  createdAt: number;
  revokedAt: number | null;
  /** The last accepted use, to the minute (null: never used). */
  lastUsedAt: number | null;
}

export interface IssuedToken extends TokenInfo {
  /** The bearer token itself; returned once, at issue time. */
  token: string;
}

export interface MintedToken extends IssuedToken {
  hash: string;
}

interface TokenRow {
  id: string;
  role: TokenRole;
  hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export class TokenStore implements BufferedWrites {
  readonly #sql: SqlStorage;
  readonly #writes: WriteBehind;
  /** Live tokens seen so far, by hash. */
  readonly #live = new Map<string, TokenInfo>();
  /** Last-use times not written yet, by token id. */
  readonly #used = new Map<string, number>();

  constructor(sql: SqlStorage, writes: WriteBehind) {
    this.#sql = sql;
    this.#writes = writes;
    writes.add(this);
  }

  /** Creates a token and its hash (async), so callers can store several in one synchronous transaction. */
  static async mint(tunnel: string, role: TokenRole): Promise<MintedToken> {
    const token = newToken(KIND[role], tunnel);
    const hash = await hashToken(token);
    return { id: tokenId(role), role, createdAt: Date.now(), revokedAt: null, lastUsedAt: null, token, hash };
  }

  /** Stores a minted token's hash; returns what may be shown to the operator once. */
  insert(minted: MintedToken): IssuedToken {
    run(
      this.#sql,
      "INSERT INTO tokens (id, role, hash, created_at) VALUES (?, ?, ?, ?)",
      minted.id,
      minted.role,
      minted.hash,
      minted.createdAt,
    );
    const { hash: _hash, ...issued } = minted;
    return issued;
  }

  /** The live (not revoked) token with this hash and role, or null; an accepted token's use is noted. */
  verify(hash: string, role: TokenRole, now = Date.now()): TokenInfo | null {
    let info = this.#live.get(hash);
    if (!info) {
      const row = first<TokenRow>(this.#sql, "SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL", hash);
      if (!row) return null;
      info = toInfo(row);
    }
    if (info.role !== role) return null;
    if (info.lastUsedAt === null || now - info.lastUsedAt >= TOUCH_EVERY_MS) {
      info = { ...info, lastUsedAt: now };
      this.#used.set(info.id, now);
      this.#writes.buffered();
    }
    this.#live.set(hash, info);
    return info;
  }

  /**
   * What `verify` costs for a name that holds no tunnel (so no tokens table): a look-up by the
   * hash that finds nothing. A forged token then takes as long to refuse whether the tunnel
   * exists or not, and its timing does not tell which.
   */
  verifyWithoutTunnel(hash: string): null {
    first(this.#sql, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", hash);
    return null;
  }

  /** Every token, last uses not yet written included. */
  list(): TokenInfo[] {
    return all<TokenRow>(this.#sql, "SELECT * FROM tokens ORDER BY created_at, rowid").map((row) => {
      const info = toInfo(row);
      return { ...info, lastUsedAt: this.#used.get(info.id) ?? info.lastUsedAt };
    });
  }

  /** Revokes a token (idempotent); null when no token has this id. */
  revoke(id: string): TokenInfo | null {
    run(this.#sql, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id);
    for (const [hash, info] of this.#live) if (info.id === id) this.#live.delete(hash);
    const row = first<TokenRow>(this.#sql, "SELECT * FROM tokens WHERE id = ?", id);
    return row ? { ...toInfo(row), lastUsedAt: this.#used.get(id) ?? row.last_used_at } : null;
  }

  hasPending(): boolean {
    return this.#used.size > 0;
  }

  writePending(): void {
    for (const [id, at] of this.#used) run(this.#sql, "UPDATE tokens SET last_used_at = ? WHERE id = ?", at, id);
  }

  clearPending(): void {
    this.#used.clear();
  }

  /** Drops what is kept in memory after the storage was wiped. */
  forget(): void {
    this.#live.clear();
    this.#used.clear();
  }
}

function tokenId(role: TokenRole): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return `${KIND[role]}_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    role: row.role,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at ?? null,
  };
}

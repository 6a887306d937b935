/**
 * The tunnel's gateway and agent tokens (table `tokens`, see ./storage.ts). A token is shown once,
 * when issued; only its SHA-256 hash is kept. Lookups go by hash: the first use of a token reads
 * its row, later uses hit an in-memory map. Every change to a token happens in this object and
 * goes through here, so revoking drops the token from the map at once and its next use fails.
 * Only live tokens are kept in the map (unknown hashes are not remembered, so guessing costs no
 * memory). Revocation keeps the row so operators can see what happened to a token.
 */
import { z } from "zod";
import { hashToken, newToken, type TokenKind } from "../../src/auth/tokens.ts";
import { all, first, run } from "../../src/storage/sql.ts";

export const TokenRoleSchema = z.enum(["gateway", "agent"]);
export type TokenRole = z.infer<typeof TokenRoleSchema>;

const KIND: Record<TokenRole, TokenKind> = { gateway: "gw", agent: "ag" };

/** A token as operators see it: never the token or its hash. */
export interface TokenInfo {
  id: string;
  role: TokenRole;
  createdAt: number;
  revokedAt: number | null;
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
}

export class TokenStore {
  readonly #sql: SqlStorage;
  /** Live tokens seen so far, by hash. */
  readonly #live = new Map<string, TokenInfo>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates a token and its hash (async), so callers can store several in one synchronous transaction. */
  static async mint(tunnel: string, role: TokenRole): Promise<MintedToken> {
    const token = newToken(KIND[role], tunnel);
    return { id: tokenId(role), role, createdAt: Date.now(), revokedAt: null, token, hash: await hashToken(token) };
  }

  /** Stores a minted token's hash; returns what may be shown to the operator once. */
  insert(minted: MintedToken): IssuedToken {
    run(
      this.#sql,
      "INSERT INTO tokens VALUES (?, ?, ?, ?, NULL)",
      minted.id,
      minted.role,
      minted.hash,
      minted.createdAt,
    );
    const { hash: _hash, ...issued } = minted;
    return issued;
  }

  /** The live (not revoked) token with this hash and role, or null. */
  verify(hash: string, role: TokenRole): TokenInfo | null {
    const known = this.#live.get(hash);
    if (known) return known.role === role ? known : null;
    const row = first<TokenRow>(this.#sql, "SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL", hash);
    if (!row) return null;
    const info = toInfo(row);
    this.#live.set(hash, info);
    return info.role === role ? info : null;
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

  list(): TokenInfo[] {
    return all<TokenRow>(this.#sql, "SELECT * FROM tokens ORDER BY created_at, rowid").map(toInfo);
  }

  /** Revokes a token (idempotent); null when no token has this id. */
  revoke(id: string): TokenInfo | null {
    run(this.#sql, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id);
    for (const [hash, info] of this.#live) if (info.id === id) this.#live.delete(hash);
    const row = first<TokenRow>(this.#sql, "SELECT * FROM tokens WHERE id = ?", id);
    return row ? toInfo(row) : null;
  }

  /** Drops what is kept in memory after the storage was wiped. */
  forget(): void {
    this.#live.clear();
  }
}

function tokenId(role: TokenRole): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return `${KIND[role]}_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function toInfo(row: TokenRow): TokenInfo {
  return { id: row.id, role: row.role, createdAt: row.created_at, revokedAt: row.revoked_at };
}

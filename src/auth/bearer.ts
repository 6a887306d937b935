import { TetherError } from "../errors/tether-error.ts";
import { timingSafeEqual } from "./tokens.ts";

/** The header a caller's Tether token came in. */
export type TokenHeader = "x-tether-token" | "authorization";

export interface BearerCredential {
  token: string;
  from: TokenHeader;
}

/**
 * Reads the bearer token and says where it was: `X-Tether-Token` first (it leaves `Authorization`
 * to upstreams), then `Authorization`. An empty or blank header counts as absent.
 */
export function bearerCredential(headers: Headers): BearerCredential | null {
  const own = headers.get("x-tether-token")?.trim();
  if (own) return { token: own, from: "x-tether-token" };
  const auth = headers.get("authorization");
  if (!auth) return null;
  const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
  return token ? { token, from: "authorization" } : null;
}

export function bearerToken(headers: Headers): string | null {
  return bearerCredential(headers)?.token ?? null;
}

export function unauthorized(message: string): TetherError {
  return new TetherError("unauthorized", message, {
    headers: { "WWW-Authenticate": `Bearer realm="tether", error="invalid_token"` },
  });
}

/** Throws 401 unless the request carries the admin token. */
export function requireAdmin(headers: Headers, adminToken: string | undefined): void {
  const token = bearerToken(headers);
  if (!token) throw unauthorized("missing bearer token");
  if (!adminToken) throw unauthorized("no admin token is configured on this edge (TETHER_ADMIN_TOKEN)");
  if (!timingSafeEqual(token, adminToken)) throw unauthorized("invalid admin token");
}

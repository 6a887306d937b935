import { TetherError } from "../errors/tether-error.ts";
import { timingSafeEqual } from "./tokens.ts";

/** Reads the bearer token: `X-Tether-Token` first (it leaves `Authorization` to upstreams), then `Authorization`. */
export function bearerToken(headers: Headers): string | null {
  const own = headers.get("x-tether-token");
  if (own) return own.trim();
  const auth = headers.get("authorization");
  if (!auth) return null;
  const match = /^Bearer\s+(.+)$/i.exec(auth);
  return match ? (match[1] as string).trim() : null;
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

/**
 * The console's session cookie: `v1.<payload>.<signature>`, base64url, where the payload is JSON
 * {op, iat, exp, nonce} (operator, issued-at and expiry in ms, 128 random bits) and the signature
 * its HMAC-SHA256 under the "session" key derived from the admin token (./keys.ts). No server-side
 * state: a cookie is valid while its signature checks under the current admin token and it has
 * not expired; rotating the admin token therefore signs every operator out.
 *
 * Attributes: HttpOnly (no script reads it), Secure, SameSite=Strict (never sent on cross-site
 * requests), Path=/console (the admin API never sees it). Chromium, Firefox and Safari store
 * Secure cookies from http://localhost and http://127.0.0.1 (potentially trustworthy origins), so
 * `npm start` and the browser tests sign in over plain HTTP on loopback.
 */
import { z } from "zod";
import { base64urlDecode, base64urlEncode, base64urlJson } from "../../auth/base64url.ts";
import { type Operator, OperatorSchema } from "../../auth/operator.ts";
import { randomBase64url } from "../../auth/tokens.ts";
import { consoleKey, hmac, hmacVerify } from "./keys.ts";

export const SESSION_COOKIE = "tether_console";
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Cookies issued "in the future" beyond this are refused (clock skew between isolates is tiny). */
const ISSUED_AHEAD_MS = 60_000;

export const SessionSchema = z
  .object({
    op: OperatorSchema,
    iat: z.number().int().nonnegative(),
    exp: z.number().int().positive(),
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  })
  .strict();
export type Session = z.infer<typeof SessionSchema>;

export type SessionRefusal = "malformed" | "bad-signature" | "expired" | "not-yet-valid";
export type SessionCheck = { ok: true; session: Session } | { ok: false; reason: SessionRefusal };

export async function signSession(
  adminToken: string,
  operator: Operator,
  options: { now?: number; ttlMs?: number; nonce?: string } = {},
): Promise<{ value: string; session: Session }> {
  const iat = options.now ?? Date.now();
  const session: Session = {
    op: operator,
    iat,
    exp: iat + (options.ttlMs ?? SESSION_TTL_MS),
    nonce: options.nonce ?? randomBase64url(16),
  };
  const body = `v1.${base64urlEncode(new TextEncoder().encode(JSON.stringify(session)))}`;
  const signature = await hmac(await consoleKey(adminToken, "session"), body);
  return { value: `${body}.${base64urlEncode(signature)}`, session };
}

/** Checks a cookie value: signature first (nothing unsigned is even parsed), then the times. */
export async function verifySession(adminToken: string, value: string, now = Date.now()): Promise<SessionCheck> {
  const parts = value.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") return { ok: false, reason: "malformed" };
  const signature = base64urlDecode(parts[2] as string);
  if (signature?.length !== 32) return { ok: false, reason: "malformed" };
  const body = `${parts[0]}.${parts[1]}`;
  if (!(await hmacVerify(await consoleKey(adminToken, "session"), signature, body))) {
    return { ok: false, reason: "bad-signature" };
  }
  const parsed = SessionSchema.safeParse(base64urlJson(parts[1] as string));
  if (!parsed.success) return { ok: false, reason: "malformed" };
  if (parsed.data.exp <= now) return { ok: false, reason: "expired" };
  if (parsed.data.iat > now + ISSUED_AHEAD_MS) return { ok: false, reason: "not-yet-valid" };
  return { ok: true, session: parsed.data };
}

const ATTRIBUTES = "Path=/console; HttpOnly; Secure; SameSite=Strict";

export function sessionSetCookie(value: string, session: Session): string {
  const maxAge = Math.max(0, Math.floor((session.exp - session.iat) / 1000));
  return `${SESSION_COOKIE}=${value}; ${ATTRIBUTES}; Max-Age=${maxAge}`;
}

export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; ${ATTRIBUTES}; Max-Age=0`;
}

/** The session cookie's value in a Cookie header, or null (the first one wins, as browsers order by path). */
export function sessionCookieValue(cookieHeader: string | null | undefined): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

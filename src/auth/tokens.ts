import { base64urlEncode } from "./base64url.ts";

/**
 * Bearer tokens. A token names its kind and scope so the edge can route it to the right Durable
 * Object before any lookup: `tth.<kind>.<scope>.<secret>`. Only SHA-256 hashes are stored.
 *   kind: "gw" (a tunnel's gateway), "ag" (a tunnel's agents), "sb" (one sandbox),
 *         "api" (scope: the API token's id, so the Registry finds its hash without a scan).
 */
export type TokenKind = "gw" | "ag" | "sb" | "api";

export interface ParsedToken {
  kind: TokenKind;
  scope: string;
  token: string;
}

const TOKEN_PATTERN = /^tth\.(gw|ag|sb|api)\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{32,128})$/;

export function newToken(kind: TokenKind, scope: string): string {
  return `tth.${kind}.${scope}.${randomBase64url(24)}`;
}

/** `bytes` random bytes as URL-safe base64 without padding (4 characters per 3 bytes). */
export function randomBase64url(bytes: number): string {
  const random = new Uint8Array(bytes);
  crypto.getRandomValues(random);
  return base64urlEncode(random);
}

export function parseToken(token: string): ParsedToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  return { kind: match[1] as TokenKind, scope: match[2] as string, token };
}

export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  let diff = ea.length ^ eb.length;
  for (let i = 0; i < Math.max(ea.length, eb.length); i++) diff |= (ea[i] ?? 0) ^ (eb[i] ?? 0);
  return diff === 0;
}

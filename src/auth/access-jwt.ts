/**
 * Cloudflare Access: when `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD` are set, Access puts a signed JWT
 * in `Cf-Access-Jwt-Assertion` on every request it let through. Verifying it (not merely trusting
 * its presence) keeps a request that reached the Worker around Access (its workers.dev address,
 * say) from posing as a person: RS256 signature against the team's keys (./access-jwks.ts), `aud`
 * containing our application's tag, `iss` the team, and `exp`/`nbf` with a small leeway.
 *
 * `ACCESS_TEAM_DOMAIN` is the team's host (`myteam.cloudflareaccess.com`). For local testing it may
 * be a full `http://127.0.0.1:PORT` URL: a stand-in key server that signs like Access does.
 */
import { z } from "zod";
import { TetherError } from "../errors/tether-error.ts";
import { accessSigningKey } from "./access-jwks.ts";
import { base64urlDecode, base64urlJson } from "./base64url.ts";
import type { Operator } from "./operator.ts";

export const ACCESS_JWT_HEADER = "cf-access-jwt-assertion";
/** Clock skew tolerated on `exp` and `nbf`. */
export const ACCESS_LEEWAY_SECONDS = 30;
const MAX_JWT_LENGTH = 16 * 1024;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export interface AccessConfig {
  /** `https://<team domain>` (or the full local URL): the issuer Access JWTs must name. */
  issuer: string;
  certsUrl: string;
  audience: string;
}

/**
 * The Access settings of this edge, or null when Access is not configured (both variables are
 * needed). A team domain that cannot be used fails every request that would rely on it (500 with
 * the reason) rather than quietly turning the check off.
 */
export function accessConfig(env: { ACCESS_TEAM_DOMAIN?: string; ACCESS_AUD?: string }): AccessConfig | null {
  const domain = env.ACCESS_TEAM_DOMAIN?.trim();
  const audience = env.ACCESS_AUD?.trim();
  if (!domain || !audience) return null;
  const issuer = /^https?:\/\//i.test(domain) ? domain.replace(/\/+$/, "") : `https://${domain.replace(/\/+$/, "")}`;
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TetherError("internal", `ACCESS_TEAM_DOMAIN is not a host name or URL: ${domain.slice(0, 200)}`);
  }
  // Keys fetched over plain HTTP could be swapped on the way: only a loopback stand-in may use it.
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new TetherError("internal", "ACCESS_TEAM_DOMAIN may use http:// only for a loopback address (local testing)");
  }
  return { issuer, certsUrl: `${issuer}/cdn-cgi/access/certs`, audience };
}

const HeaderSchema = z.looseObject({ alg: z.string(), kid: z.string().min(1).max(200).optional() });
const ClaimsSchema = z.looseObject({
  aud: z.union([z.string(), z.array(z.string())]),
  iss: z.string(),
  exp: z.number(),
  nbf: z.number().optional(),
  iat: z.number().optional(),
  sub: z.string().optional(),
  email: z.string().optional(),
  /** Service tokens carry their client id here instead of an email. */
  common_name: z.string().optional(),
});
export type AccessClaims = z.infer<typeof ClaimsSchema>;

function refused(why: string): TetherError {
  return new TetherError("unauthorized", `Cloudflare Access JWT refused: ${why}`);
}

/** Verifies an Access JWT; the operator it names, or a 401 that says what was wrong. */
export async function verifyAccessJwt(
  jwt: string,
  config: AccessConfig,
  now = Date.now(),
): Promise<{ operator: Operator; claims: AccessClaims }> {
  if (jwt.length > MAX_JWT_LENGTH) throw refused("too long");
  const parts = jwt.split(".");
  if (parts.length !== 3) throw refused("malformed (not three base64url parts)");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = HeaderSchema.safeParse(base64urlJson(headerPart));
  if (!header.success) throw refused("malformed header");
  // Only RS256, whatever the header says: "none" and HS256 (keyed with the public key) are the
  // classic forgeries.
  if (header.data.alg !== "RS256")
    throw refused(`algorithm ${header.data.alg.slice(0, 20)} is not accepted (RS256 only)`);
  if (!header.data.kid) throw refused("no key id (kid) in the header");
  const claims = ClaimsSchema.safeParse(base64urlJson(payloadPart));
  if (!claims.success) throw refused("malformed claims (aud, iss and exp are required)");
  const signature = base64urlDecode(signaturePart);
  if (!signature || signature.length === 0) throw refused("malformed signature");

  const key = await accessSigningKey(config.certsUrl, header.data.kid, now);
  if (!key) throw refused("signed by a key this Access team does not publish");
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, signed))) throw refused("bad signature");

  const { aud, iss, exp, nbf } = claims.data;
  const audiences = typeof aud === "string" ? [aud] : aud;
  if (!audiences.includes(config.audience)) throw refused("wrong audience (not this application's ACCESS_AUD)");
  if (iss.replace(/\/+$/, "") !== config.issuer) throw refused("wrong issuer (not this Access team)");
  const seconds = now / 1000;
  if (exp + ACCESS_LEEWAY_SECONDS <= seconds) throw refused("expired");
  if (nbf !== undefined && nbf - ACCESS_LEEWAY_SECONDS > seconds) throw refused("not yet valid (nbf)");
  const who = claims.data.email || claims.data.common_name;
  if (!who) throw refused("names no email or service token");
  return { operator: { kind: "access", email: who.slice(0, 320) }, claims: claims.data };
}

/**
 * The operator of a request that carries an Access JWT on an edge where Access is configured;
 * null when either is absent (the caller falls back to the admin token or a session).
 */
export async function accessOperator(
  headers: Headers,
  env: { ACCESS_TEAM_DOMAIN?: string; ACCESS_AUD?: string },
): Promise<{ operator: Operator; jwt: string } | null> {
  const config = accessConfig(env);
  const jwt = headers.get(ACCESS_JWT_HEADER)?.trim();
  if (!config || !jwt) return null;
  return { operator: (await verifyAccessJwt(jwt, config)).operator, jwt };
}

/**
 * Who a console request comes from: a person a verified Cloudflare Access JWT names (when Access
 * is configured and the header is there; a JWT that fails verification is refused, not ignored),
 * else the operator of a valid session cookie. Each identity comes with what its CSRF token is
 * bound to: the session's nonce under the admin token, or, for Access, the JWT itself (a secret
 * the browser holds in Access's cookie; Access issues a new one when it re-authenticates, and
 * pages loaded before then ask for a reload).
 */
import { accessOperator } from "../../auth/access-jwt.ts";
import type { Operator } from "../../auth/operator.ts";
import { csrfTokenFor } from "./csrf.ts";
import { type SessionRefusal, sessionCookieValue, verifySession } from "./session-cookie.ts";

export interface ConsoleAuthEnv {
  TETHER_ADMIN_TOKEN?: string;
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
}

export interface ConsoleIdentity {
  operator: Operator;
  via: "access" | "session";
  /** Keys the CSRF token (./csrf.ts) with `csrfBinding`. */
  csrfSecret: string;
  csrfBinding: string;
}

export type ConsoleAuth =
  | { ok: true; identity: ConsoleIdentity }
  | { ok: false; reason: "no-session" | "no-admin-token" | SessionRefusal; cookieSent: boolean };

export async function consoleIdentity(request: Request, env: ConsoleAuthEnv): Promise<ConsoleAuth> {
  const access = await accessOperator(request.headers, env);
  if (access) {
    return {
      ok: true,
      identity: { operator: access.operator, via: "access", csrfSecret: access.jwt, csrfBinding: "access" },
    };
  }
  const cookie = sessionCookieValue(request.headers.get("cookie"));
  if (!cookie) return { ok: false, reason: "no-session", cookieSent: false };
  const adminToken = env.TETHER_ADMIN_TOKEN;
  if (!adminToken) return { ok: false, reason: "no-admin-token", cookieSent: true };
  const check = await verifySession(adminToken, cookie);
  if (!check.ok) return { ok: false, reason: check.reason, cookieSent: true };
  return {
    ok: true,
    identity: {
      operator: check.session.op,
      via: "session",
      csrfSecret: adminToken,
      csrfBinding: `session:${check.session.nonce}`,
    },
  };
}

export function identityCsrfToken(identity: ConsoleIdentity): Promise<string> {
  return csrfTokenFor(identity.csrfSecret, identity.csrfBinding);
}

/** Why a request has no console operator, for the 401 and the sign-in page. */
export function refusalMessage(reason: Exclude<ConsoleAuth, { ok: true }>["reason"]): string {
  switch (reason) {
    case "no-session":
      return "sign in to the console first";
    case "no-admin-token":
      return "console sessions need TETHER_ADMIN_TOKEN to be set on this edge";
    case "expired":
      return "your console session has expired: sign in again";
    default:
      return "your console session is not valid (signed with another admin token, or altered): sign in again";
  }
}

/**
 * `requireConsoleOperator`: everything under /console except signing in and out and the static
 * assets needs an operator (a session cookie or a verified Access JWT). Without one, a GET or HEAD
 * is sent to the sign-in page (coming back afterwards), anything else gets 401. Every other method
 * must also come from this origin and carry the session's CSRF token (403 otherwise). Sets
 * `operator` and `csrfToken` for the pages.
 */
import type { MiddlewareHandler } from "hono";
import {
  type ConsoleAuth,
  consoleIdentity,
  identityCsrfToken,
  refusalMessage,
} from "../../src/console/auth/console-identity.ts";
import { requireCsrfToken, requireSameOrigin } from "../../src/console/auth/csrf.ts";
import { signInPath } from "../../src/console/auth/next-path.ts";
import { clearSessionCookie } from "../../src/console/auth/session-cookie.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import type { ConsoleEnv } from "../env.ts";

/** Paths anyone may request: the sign-in page and its link, sign-out, and the console's static files. */
export const CONSOLE_PUBLIC_PATH = /^\/console\/(sign-in(\/link\/[^/]+)?|sign-out|assets\/.+)$/;

export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD";
}

export const requireConsoleOperator: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (CONSOLE_PUBLIC_PATH.test(c.req.path)) return next();
  const auth = await consoleIdentity(c.req.raw, c.env);
  if (!auth.ok) return refuse(c.req.raw, auth);
  const { identity } = auth;
  // Known before the action is checked, so a refused action is answered as a page; the CSRF token
  // only once the request has passed, so no refusal ever carries it.
  c.set("operator", identity.operator);
  if (!isSafeMethod(c.req.method)) {
    requireSameOrigin(c.req.raw);
    await requireCsrfToken(c, identity.csrfSecret, identity.csrfBinding);
  }
  c.set("csrfToken", await identityCsrfToken(identity));
  await next();
};

function refuse(request: Request, auth: Exclude<ConsoleAuth, { ok: true }>): Response {
  // A cookie that no longer verifies is cleared so the browser stops sending it.
  const clear: Record<string, string> = auth.cookieSent ? { "Set-Cookie": clearSessionCookie() } : {};
  if (isSafeMethod(request.method)) {
    const url = new URL(request.url);
    return new Response(null, {
      status: 302,
      headers: { Location: signInPath(`${url.pathname}${url.search}`), ...clear },
    });
  }
  throw new TetherError("unauthorized", refusalMessage(auth.reason), { headers: clear });
}

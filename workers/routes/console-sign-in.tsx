/**
 * Signing in and out of the console: the admin-token form, the one-time link `npm start` prints,
 * and sign-out. These are the console's only routes without an operator (see console-guard.ts).
 */
import { type Context, Hono } from "hono";
import { registry } from "../../durable-objects/registry.ts";
import { accessConfig } from "../../src/auth/access-jwt.ts";
import type { Operator } from "../../src/auth/operator.ts";
import { hashToken, timingSafeEqual } from "../../src/auth/tokens.ts";
import { consoleIdentity } from "../../src/console/auth/console-identity.ts";
import { requireCsrfToken, requireSameOrigin } from "../../src/console/auth/csrf.ts";
import { CONSOLE_HOME, safeNextPath } from "../../src/console/auth/next-path.ts";
import { clearSessionCookie, sessionSetCookie, signSession } from "../../src/console/auth/session-cookie.ts";
import { SignInPage } from "../../src/console/auth/sign-in-page.tsx";
import {
  clientAddress,
  recordSignInFailure,
  recordSignInSuccess,
  signInBlockedFor,
} from "../../src/console/auth/sign-in-throttle.ts";
import { isTetherError } from "../../src/errors/tether-error.ts";
import { readBoundedBody } from "../../src/http/read-bounded-body.ts";
import type { ConsoleEnv } from "../env.ts";

export const consoleSignInRoutes = new Hono<ConsoleEnv>();

const FORM_LIMIT = 8 * 1024;
/** Cloudflare Access's logout, served by Access on the application's own host. */
const ACCESS_LOGOUT = "/cdn-cgi/access/logout";

consoleSignInRoutes.get("/sign-in", async (c) => {
  const next = safeNextPath(c.req.query("next"));
  let error: string | undefined;
  try {
    if ((await consoleIdentity(c.req.raw, c.env)).ok) return c.redirect(next, 302);
  } catch (refusal) {
    // An Access JWT that does not verify: say why, and still offer the token form.
    if (!isTetherError(refusal)) throw refusal;
    error = refusal.message;
  }
  return signInForm(c, next, 200, error);
});

consoleSignInRoutes.post("/sign-in", async (c) => {
  // No session yet, so no CSRF token: the origin check keeps other sites from signing anyone in.
  requireSameOrigin(c.req.raw);
  const bytes = await readBoundedBody(c.req.raw, FORM_LIMIT, "sign-in form");
  const form = new URLSearchParams(bytes ? new TextDecoder().decode(bytes) : "");
  const next = safeNextPath(form.get("next"));
  const adminToken = c.env.TETHER_ADMIN_TOKEN;
  if (!adminToken)
    return signInForm(c, next, 401, "This edge has no admin token (TETHER_ADMIN_TOKEN) to sign in with.");
  const token = form.get("token")?.trim() ?? "";
  if (!token) return signInForm(c, next, 401, "Enter the admin token.");
  const address = clientAddress(c.req.raw.headers);
  const blockedMs = signInBlockedFor(address);
  if (blockedMs > 0) {
    const minutes = Math.ceil(blockedMs / 60_000);
    c.header("Retry-After", String(Math.ceil(blockedMs / 1000)));
    return signInForm(c, next, 429, `Too many wrong tokens from your address: try again in ${minutes} min.`);
  }
  if (!timingSafeEqual(token, adminToken)) {
    recordSignInFailure(address);
    return signInForm(c, next, 401, "That is not the admin token of this edge. Nothing was signed in.");
  }
  recordSignInSuccess(address);
  return startSession(c, { kind: "admin-token" }, next);
});

consoleSignInRoutes.get("/sign-in/link/:code", async (c) => {
  // A HEAD (link checkers, previews) must not use the link up.
  if (c.req.method === "HEAD") return c.body(null, 200);
  const adminToken = c.env.TETHER_ADMIN_TOKEN;
  const code = c.req.param("code");
  const operator =
    adminToken && /^[A-Za-z0-9_-]{20,128}$/.test(code)
      ? await registry(c.env).useSignInLink(await hashToken(code))
      : null;
  if (!operator) {
    return signInForm(
      c,
      CONSOLE_HOME,
      401,
      "That sign-in link is unknown, already used or expired. Sign in with the admin token, or ask for a new link.",
    );
  }
  return startSession(c, operator, CONSOLE_HOME);
});

consoleSignInRoutes.post("/sign-out", async (c) => {
  const auth = await consoleIdentity(c.req.raw, c.env).catch(() => null);
  // A live session is only ended by its own pages (origin and CSRF checked); a dead one is just cleared.
  if (auth?.ok) {
    requireSameOrigin(c.req.raw);
    await requireCsrfToken(c, auth.identity.csrfSecret, auth.identity.csrfBinding);
  }
  // Behind Access the JWT would sign the browser straight back in: Access's own logout ends that.
  const location = auth?.ok && auth.identity.via === "access" ? ACCESS_LOGOUT : "/console/sign-in";
  return new Response(null, { status: 303, headers: { Location: location, "Set-Cookie": clearSessionCookie() } });
});

async function startSession(c: Context<ConsoleEnv>, operator: Operator, next: string): Promise<Response> {
  const adminToken = c.env.TETHER_ADMIN_TOKEN as string;
  const { value, session } = await signSession(adminToken, operator);
  return new Response(null, {
    status: 303,
    headers: { Location: next, "Set-Cookie": sessionSetCookie(value, session) },
  });
}

function signInForm(
  c: Context<ConsoleEnv>,
  next: string,
  status: 200 | 401 | 429,
  error?: string,
): Response | Promise<Response> {
  return c.html(
    <SignInPage
      next={next}
      error={error}
      access={accessConfig(c.env) !== null}
      tokenSignIn={Boolean(c.env.TETHER_ADMIN_TOKEN)}
    />,
    status,
  );
}

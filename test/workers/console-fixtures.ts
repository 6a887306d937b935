/**
 * Fixtures for the console's sign-in tests inside workerd: signing in through the real form,
 * requests with a session cookie and the console's own Origin, and a record of every response so
 * a test can assert that no secret ever left the edge.
 */
import { expect } from "vitest";
import { base64urlJson } from "../../src/auth/base64url.ts";
import { sessionCookieValue } from "../../src/console/auth/session-cookie.ts";
import { ADMIN_TOKEN, EDGE, edgeFetch } from "./tunnel-fixtures.ts";

export { ADMIN_TOKEN, EDGE };

/** Every response a console test saw: status, headers and body text (scanned for secrets). */
export const seen: Array<{ what: string; status: number; headers: Headers; body: string }> = [];

export interface ConsoleInit extends RequestInit {
  cookie?: string;
  /** The Origin header; the console's own unless given (null: none). */
  origin?: string | null;
}

export async function consoleFetch(path: string, init: ConsoleInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("cookie", `tether_console=${init.cookie}`);
  const method = init.method ?? "GET";
  const origin = init.origin === undefined ? (method === "GET" || method === "HEAD" ? null : EDGE) : init.origin;
  if (origin !== null) headers.set("origin", origin);
  const res = await edgeFetch(path, { ...init, headers, redirect: "manual" });
  const body = method === "HEAD" ? "" : await res.clone().text();
  seen.push({ what: `${method} ${path}`, status: res.status, headers: res.headers, body });
  return res;
}

export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

/** Signs in through the form; the session cookie's value. */
export async function signIn(token = ADMIN_TOKEN): Promise<string> {
  const res = await consoleFetch("/console/sign-in", form({ token, next: "/console" }));
  expect(res.status).toBe(303);
  const value = sessionCookieValue(res.headers.get("set-cookie"));
  if (!value) throw new Error("signing in set no session cookie");
  return value;
}

/** The console's CSRF token for a session, as the pages receive it (computed the way the guard does). */
export { csrfTokenFor } from "../../src/console/auth/csrf.ts";

/** The nonce a session cookie carries (its payload is readable; only its signature is secret-keyed). */
export function cookieNonce(cookie: string): string {
  return (base64urlJson(cookie.split(".")[1] as string) as { nonce: string }).nonce;
}

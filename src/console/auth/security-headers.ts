/**
 * Security headers on every console response, redirects and errors included: a strict CSP
 * (only this origin's scripts, styles, images and fetches; no inline script or style; no
 * framing; forms post only here), no MIME sniffing, no Referer (console URLs name tunnels and
 * sandboxes), and no caching (pages show live operational state to one signed-in operator) unless
 * the response chose its own (the stylesheet and script, immutable under hashed names).
 */
import type { MiddlewareHandler } from "hono";

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONSOLE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
};

export const consoleSecurityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  try {
    setAll(c.res.headers);
  } catch {
    // Immutable headers (a Response passed through from fetch or an RPC): Hono's setter copies it.
    c.res = new Response(c.res.body, c.res);
    setAll(c.res.headers);
  }
};

function setAll(headers: Headers): void {
  const cacheControl = headers.get("Cache-Control");
  for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) headers.set(name, value);
  if (cacheControl !== null) headers.set("Cache-Control", cacheControl);
}

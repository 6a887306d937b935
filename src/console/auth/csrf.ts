/**
 * CSRF protection for console actions, two independent checks (either alone stops a cross-site
 * form post; together they also cover a browser that omits one):
 *  - same origin: the request's `Origin` is the console's own, or, when a browser sent no Origin
 *    (or "null"), `Sec-Fetch-Site: same-origin`. A request with neither is refused: every browser sends one of
 *    them on a POST, and non-browser clients use the admin API, not the console.
 *  - a token bound to the session: HMAC of the session's nonce under the "csrf" key (./keys.ts),
 *    sent as the `_csrf` form field or the `x-csrf-token` header. A new session means a new token.
 */
import type { Context } from "hono";
import { base64urlDecode, base64urlEncode } from "../../auth/base64url.ts";
import { TetherError } from "../../errors/tether-error.ts";
import { formFields } from "../form-fields.ts";
import { consoleKey, hmac, hmacVerify } from "./keys.ts";

export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

/** The CSRF token of a session: `binding` names it (the session's nonce), `secret` keys it. */
export async function csrfTokenFor(secret: string, binding: string): Promise<string> {
  return base64urlEncode(await hmac(await consoleKey(secret, "csrf"), binding));
}

/**
 * Throws 403 unless the request comes from a page of this origin. The console's own pages send
 * `Origin: null` on form posts (their `Referrer-Policy: no-referrer` makes Chromium hide the
 * origin), so "null" counts as absent and `Sec-Fetch-Site` decides; a sandboxed frame or data: page
 * elsewhere also sends "null", but its Sec-Fetch-Site is "cross-site".
 */
export function requireSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null") {
    if (origin !== new URL(request.url).origin) {
      throw new TetherError(
        "forbidden",
        `cross-origin request refused: Origin ${origin.slice(0, 200)} is not this console`,
      );
    }
    return;
  }
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin") return;
  throw new TetherError(
    "forbidden",
    site === null
      ? "request refused: it shows neither its Origin nor Sec-Fetch-Site, so it cannot be shown to come from this console"
      : `cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})`,
  );
}

/** Throws 403 unless the request carries the session's CSRF token (header, or form field). */
export async function requireCsrfToken(c: Context, secret: string, binding: string): Promise<void> {
  const sent = c.req.header(CSRF_HEADER) ?? (await formField(c, CSRF_FIELD));
  if (!sent) throw new TetherError("forbidden", "missing CSRF token: reload the page and try again");
  const signature = base64urlDecode(sent);
  const valid =
    signature !== null &&
    signature.length === 32 &&
    (await hmacVerify(await consoleKey(secret, "csrf"), signature, binding));
  if (!valid) throw new TetherError("forbidden", "invalid CSRF token: reload the page and try again");
}

/** A form field (./form-fields.ts: the route reads the same parsed body); undefined for bodies that are not forms. */
async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded" && type !== "multipart/form-data") return undefined;
  return (await formFields(c, "console form"))[name];
}

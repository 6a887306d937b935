import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { CsrfField } from "../../src/console/auth/csrf-field.tsx";
import { CONSOLE_SECURITY_HEADERS } from "../../src/console/auth/security-headers.ts";
import app from "../../workers/edge.ts";
import { CONSOLE_PUBLIC_PATH } from "../../workers/routes/console-guard.ts";
import { ADMIN_TOKEN, consoleFetch, cookieNonce, csrfTokenFor, EDGE, form, seen, signIn } from "./console-fixtures.ts";
import { warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

/**
 * Every route the console has, read from the app itself (so pages added later are covered):
 * method and a concrete path (parameters filled in), signing in and out and assets excluded.
 */
function consoleRoutes(): Array<{ method: string; path: string }> {
  const routes = app.routes
    .filter((route) => route.path.startsWith("/console") && route.method !== "ALL")
    .map((route) => ({
      method: route.method,
      path: route.path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, "x1").replace(/\/\*$/, "/x1"),
    }))
    .filter((route) => !CONSOLE_PUBLIC_PATH.test(route.path));
  const unique = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));
  return [...unique.values()];
}

const ACTIONS = ["POST", "PUT", "PATCH", "DELETE"];

async function signedIn(): Promise<{ cookie: string; csrf: string }> {
  const cookie = await signIn();
  return { cookie, csrf: await csrfTokenFor(ADMIN_TOKEN, `session:${cookieNonce(cookie)}`) };
}

/** A refusal's message: the API's JSON error, or the page a signed-in operator's browser is shown. */
function errorMessage(body: string): string {
  if (body.startsWith("{")) return (JSON.parse(body) as { error: { message: string } }).error.message;
  expect(body).toContain("<h1>Refused</h1>");
  return body.replace(/<[^>]*>/g, " ");
}

describe("the console without a session", () => {
  const routes = consoleRoutes();

  test("the app has console routes to check (the enumeration found them)", () => {
    expect(routes.length).toBeGreaterThan(0);
    expect(routes).toContainEqual({ method: "GET", path: "/console" });
  });

  test("every page redirects to the sign-in page, coming back afterwards", async () => {
    for (const route of [
      ...routes.filter((r) => r.method === "GET"),
      { method: "GET", path: "/console/no-such-page" },
    ]) {
      for (const method of ["GET", "HEAD"]) {
        const res = await consoleFetch(`${route.path}?q=1`, { method });
        expect(res.status, `${method} ${route.path}`).toBe(302);
        const location = res.headers.get("location") ?? "";
        expect(location, route.path).toMatch(/^\/console\/sign-in/);
        if (route.path !== "/console") {
          expect(new URL(location, EDGE).searchParams.get("next")).toBe(`${route.path}?q=1`);
        }
      }
    }
  });

  test("every action (and every method on every page) answers 401", async () => {
    const paths = new Set([...routes.map((r) => r.path), "/console/no-such-page"]);
    for (const path of paths) {
      for (const method of ACTIONS) {
        const res = await consoleFetch(path, { method, body: method === "DELETE" ? undefined : "" });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(errorMessage(await res.text())).toBe("sign in to the console first");
      }
    }
  });
});

describe("CSRF", () => {
  test("the CSRF field the pages embed is a hidden input named _csrf", () => {
    expect(String(CsrfField({ token: "abc" }))).toBe('<input type="hidden" name="_csrf" value="abc"/>');
  });

  test("an action with the session's token from this origin passes the guard (then meets the page's 404)", async () => {
    const { cookie, csrf } = await signedIn();
    const byForm = await consoleFetch("/console/no-such-page", { ...form({ _csrf: csrf }), cookie });
    expect(byForm.status).toBe(404);
    const byHeader = await consoleFetch("/console/no-such-page", {
      method: "POST",
      headers: { "x-csrf-token": csrf },
      cookie,
    });
    expect(byHeader.status).toBe(404);
    // Browsers that send Sec-Fetch-Site but no Origin pass too.
    const bySite = await consoleFetch("/console/no-such-page", {
      method: "DELETE",
      headers: { "x-csrf-token": csrf, "sec-fetch-site": "same-origin" },
      origin: null,
      cookie,
    });
    expect(bySite.status).toBe(404);
  });

  test.each([
    ["no token", {}, /missing CSRF token/],
    ["an empty token", { _csrf: "" }, /missing CSRF token/],
    ["a made-up token", { _csrf: "A".repeat(43) }, /invalid CSRF token/],
    ["a token that is not base64url", { _csrf: "<script>" }, /invalid CSRF token/],
  ])("an action with %s is refused with 403", async (_what, fields: Record<string, string>, message) => {
    const { cookie, csrf } = await signedIn();
    for (const path of ["/console", "/console/sign-out"]) {
      const res = await consoleFetch(path, { ...form(fields), cookie });
      expect(res.status, path).toBe(403);
      const body = await res.text();
      expect(errorMessage(body)).toMatch(message);
      // A refused action is never answered with the session's CSRF token.
      expect(body).not.toContain(csrf);
      // Nothing happened: the session still works.
      expect((await consoleFetch("/console", { cookie })).status).toBe(200);
    }
  });

  test("every action route the app has refuses a signed-in request without the token, or from another origin", async () => {
    const { cookie, csrf } = await signedIn();
    const actions = consoleRoutes().filter((route) => ACTIONS.includes(route.method));
    for (const route of [...actions, { method: "POST", path: "/console/no-such-action" }]) {
      const missing = await consoleFetch(route.path, { method: route.method, cookie });
      expect(missing.status, `${route.method} ${route.path}`).toBe(403);
      const foreign = await consoleFetch(route.path, {
        method: route.method,
        headers: { "x-csrf-token": csrf },
        origin: "https://evil.example",
        cookie,
      });
      expect(foreign.status, `${route.method} ${route.path} cross-origin`).toBe(403);
    }
  });

  test("the guard reads at most 64 KiB of a form looking for the token (413 past it, nothing done)", async () => {
    const { cookie, csrf } = await signedIn();
    const res = await consoleFetch("/console/no-such-page", {
      ...form({ _csrf: csrf, filler: "x".repeat(70 * 1024) }),
      cookie,
    });
    expect(res.status).toBe(413);
    // The page behind the guard reads the same form again (Hono's body cache): here, the 404 route.
    const ok = await consoleFetch("/console/no-such-page", { ...form({ _csrf: csrf, filler: "x" }), cookie });
    expect(ok.status).toBe(404);
  });

  test("another session's token is refused with 403", async () => {
    const mine = await signedIn();
    const theirs = await signedIn();
    const res = await consoleFetch("/console", { ...form({ _csrf: theirs.csrf }), cookie: mine.cookie });
    expect(res.status).toBe(403);
    expect(errorMessage(await res.text())).toMatch(/invalid CSRF token/);
  });

  test.each([
    ["another site's Origin", { origin: "https://evil.example" }, /cross-origin request refused/],
    ["the same host over another scheme", { origin: EDGE.replace("http:", "https:") }, /cross-origin/],
    ["a cross-site Sec-Fetch-Site and no Origin", { origin: null, site: "cross-site" }, /cross-site request refused/],
    ["a same-site (sibling) Sec-Fetch-Site and no Origin", { origin: null, site: "same-site" }, /cross-site/],
    [
      "Origin: null from a sandboxed frame of another site",
      { origin: "null", site: "cross-site" },
      /cross-site request refused/,
    ],
    ["neither Origin nor Sec-Fetch-Site", { origin: null }, /neither its Origin nor Sec-Fetch-Site/],
  ])("an action carrying the right token but %s is refused with 403", async (_what, how, message) => {
    const { cookie, csrf } = await signedIn();
    const headers: Record<string, string> = { "x-csrf-token": csrf };
    if ("site" in how && how.site) headers["sec-fetch-site"] = how.site;
    const res = await consoleFetch("/console/sign-out", { method: "POST", headers, origin: how.origin, cookie });
    expect(res.status).toBe(403);
    expect(errorMessage(await res.text())).toMatch(message);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  test("signing out with the token clears the cookie and goes to the sign-in page", async () => {
    const { cookie, csrf } = await signedIn();
    const res = await consoleFetch("/console/sign-out", { ...form({ _csrf: csrf }), cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/sign-in");
    expect(res.headers.get("set-cookie")).toMatch(
      /^tether_console=; Path=\/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0$/,
    );
  });
});

describe("security headers", () => {
  test("every console response carries them: pages, redirects, refusals, errors, sign-in and sign-out", async () => {
    const { cookie, csrf } = await signedIn();
    const responses = [
      await consoleFetch("/console", { cookie }),
      await consoleFetch("/console"),
      await consoleFetch("/console/sign-in"),
      await consoleFetch("/console/sign-in", form({ token: "wrong" })),
      await consoleFetch("/console/sign-in", { ...form({ token: ADMIN_TOKEN }), origin: "https://evil.example" }),
      await consoleFetch("/console/sign-in", form({ token: ADMIN_TOKEN })),
      await consoleFetch("/console/sign-in/link/nope-0123456789abcdefghij"),
      await consoleFetch("/console", { method: "POST" }),
      await consoleFetch("/console", { ...form({}), cookie }),
      await consoleFetch("/console/no-such-page", { cookie }),
      await consoleFetch("/console/no-such-page", { ...form({ _csrf: csrf }), cookie }),
      await consoleFetch("/console/assets/none.css"),
      await consoleFetch("/console/sign-in", { ...form({ token: "x".repeat(9000) }) }),
      await consoleFetch("/console/sign-out", { ...form({ _csrf: csrf }), cookie }),
    ];
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([200, 302, 303, 401, 403, 404, 413]));
    for (const res of responses) {
      for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) {
        expect(res.headers.get(name), `${name} on a ${res.status}`).toBe(value);
      }
    }
  });

  test("the CSP allows no inline script or style, no framing and no foreign form targets", () => {
    const csp = CONSOLE_SECURITY_HEADERS["Content-Security-Policy"];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain("unsafe");
  });

  test("no console response ever carried the admin token", () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const response of seen) {
      const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
      expect(`${response.body}\n${headers}`, response.what).not.toContain(ADMIN_TOKEN);
    }
  });
});

describe("Cloudflare Access whose key server cannot be reached", () => {
  test("a request with an Access JWT gets 502 saying where the keys could not be loaded from", async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    const unreachable = { ...env, ACCESS_TEAM_DOMAIN: "http://127.0.0.1:9", ACCESS_AUD: "aud" };
    const header = btoa(JSON.stringify({ alg: "RS256", kid: "k1" })).replace(/=+$/, "");
    const claims = btoa(JSON.stringify({ aud: "aud", iss: "http://127.0.0.1:9", exp: 4_000_000_000 })).replace(
      /=+$/,
      "",
    );
    const jwt = `${header}.${claims}.c2ln`;
    for (const path of ["/console", "/admin/tunnels"]) {
      const res = await app.fetch(
        new Request(`${EDGE}${path}`, { headers: { "cf-access-jwt-assertion": jwt } }),
        unreachable,
      );
      expect(res.status, path).toBe(502);
      expect(errorMessage(await res.text())).toMatch(
        /^could not load the Access signing keys from http:\/\/127\.0\.0\.1:9\/cdn-cgi\/access\/certs/,
      );
    }
  });
});

import { env } from "cloudflare:workers";
import { afterAll, describe, expect, test } from "vitest";
import { registry } from "../../durable-objects/registry.ts";
import { base64urlEncode, base64urlJson } from "../../src/auth/base64url.ts";
import { hashToken } from "../../src/auth/tokens.ts";
import { SESSION_TTL_MS, signSession } from "../../src/console/auth/session-cookie.ts";
import app from "../../workers/edge.ts";
import { ADMIN_TOKEN, consoleFetch, EDGE, form, seen, signIn } from "./console-fixtures.ts";
import { admin, warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

const ADMIN = { kind: "admin-token" } as const;

function cookieAttributes(setCookie: string | null): string[] {
  return (setCookie ?? "").split(";").map((part) => part.trim().toLowerCase());
}

async function expectRefused(cookie: string, why: RegExp): Promise<void> {
  const page = await consoleFetch("/console", { cookie });
  expect(page.status).toBe(302);
  expect(page.headers.get("location")).toBe("/console/sign-in");
  // The browser is told to drop the dead cookie.
  expect(page.headers.get("set-cookie")).toMatch(/^tether_console=; .*Max-Age=0/);
  const action = await consoleFetch("/console", { method: "POST", cookie });
  expect(action.status).toBe(401);
  expect(((await action.json()) as { error: { message: string } }).error.message).toMatch(why);
}

describe("console sign-in with the admin token", () => {
  test("the form exchanges the admin token for an HttpOnly, Secure, SameSite=Strict cookie scoped to /console", async () => {
    const page = await consoleFetch("/console/sign-in");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/console/sign-in">');
    expect(html).toContain('<label for="admin-token">Admin token</label>');

    const res = await consoleFetch("/console/sign-in", form({ token: ADMIN_TOKEN, next: "/console" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console");
    const attributes = cookieAttributes(res.headers.get("set-cookie"));
    expect(attributes).toEqual(
      expect.arrayContaining([
        "path=/console",
        "httponly",
        "secure",
        "samesite=strict",
        `max-age=${SESSION_TTL_MS / 1000}`,
      ]),
    );
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]?.replace("tether_console=", "") ?? "";
    const home = await consoleFetch("/console", { cookie });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("<h1>Tunnels</h1>");
  });

  test("the session carries the operator, issued-at, an 8 h expiry and a nonce, and is not the admin token", async () => {
    const before = Date.now();
    const cookie = await signIn();
    const payload = base64urlJson(cookie.split(".")[1] as string) as Record<string, unknown>;
    expect(payload.op).toEqual(ADMIN);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect((payload.exp as number) - (payload.iat as number)).toBe(SESSION_TTL_MS);
    expect(payload.nonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(cookie).not.toContain(ADMIN_TOKEN);
    // Two sign-ins are two sessions.
    expect(cookie).not.toBe(await signIn());
  });

  test.each([
    ["a wrong token", "not-the-admin-token", /not the admin token of this edge/],
    ["the admin token with a character changed", `${ADMIN_TOKEN.slice(0, -1)}X`, /not the admin token of this edge/],
    ["an empty token", "", /Enter the admin token/],
  ])("%s shows the form again with 401 and sets no cookie", async (_what, token, message) => {
    const res = await consoleFetch("/console/sign-in", form({ token, next: "/console/tunnels" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const html = await res.text();
    expect(html).toMatch(message);
    expect(html).toContain('role="alert"');
    // Where the operator was going survives the retry.
    expect(html).toContain('name="next" value="/console/tunnels"');
  });

  test.each([
    ["another site", "https://evil.example"],
    ["a sibling port", EDGE.replace("edge.test", "edge.test:8443")],
  ])("a sign-in posted from %s is refused with 403 and no cookie", async (_what, origin) => {
    const res = await consoleFetch("/console/sign-in", { ...form({ token: ADMIN_TOKEN }), origin });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /cross-origin request refused/,
    );
  });

  test.each([
    ["without Sec-Fetch-Site", {}, 403],
    ["from another site (a sandboxed frame)", { "sec-fetch-site": "cross-site" }, 403],
    ["from the console's own page (no-referrer hides its origin)", { "sec-fetch-site": "same-origin" }, 303],
  ])("a sign-in with Origin: null %s answers %s", async (_what, headers: Record<string, string>, status) => {
    const res = await consoleFetch("/console/sign-in", {
      ...form({ token: ADMIN_TOKEN }),
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      origin: "null",
    });
    expect(res.status).toBe(status);
    expect(res.headers.get("set-cookie") !== null).toBe(status === 303);
  });

  test.each([
    ["a console page", "/console/tunnels/demo?tab=calls", "/console/tunnels/demo?tab=calls"],
    ["another site", "https://evil.example/", "/console"],
    ["a protocol-relative address", "//evil.example/console", "/console"],
    ["a backslash trick", "/\\evil.example", "/console"],
    ["a path outside the console", "/admin/tunnels", "/console"],
    ["a path that only starts like the console", "/consolex", "/console"],
  ])("after signing in, next pointing at %s is honoured only inside the console", async (_what, next, expected) => {
    const res = await consoleFetch("/console/sign-in", form({ token: ADMIN_TOKEN, next }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(expected);
  });

  test("after 10 wrong tokens from one address, it is refused (even the right token) with 429; others are not", async () => {
    const from = (ip: string, token: string) => {
      const init = form({ token });
      return consoleFetch("/console/sign-in", {
        ...init,
        headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": ip },
      });
    };
    for (let i = 0; i < 10; i++) expect((await from("203.0.113.7", `wrong-${i}`)).status).toBe(401);
    const blocked = await from("203.0.113.7", ADMIN_TOKEN);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("set-cookie")).toBeNull();
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await blocked.text()).toContain("Too many wrong tokens");
    expect((await from("203.0.113.8", ADMIN_TOKEN)).status).toBe(303);
  });

  test("a signed-in operator opening the sign-in page goes straight to the console", async () => {
    const cookie = await signIn();
    const res = await consoleFetch("/console/sign-in?next=%2Fconsole%2Fsandboxes", { cookie });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/console/sandboxes");
  });
});

describe("cookies the console refuses", () => {
  test("a forged cookie (a made-up signature) is refused", async () => {
    const { value } = await signSession(ADMIN_TOKEN, ADMIN);
    const [version, payload] = value.split(".");
    await expectRefused(`${version}.${payload}.${base64urlEncode(new Uint8Array(32).fill(7))}`, /not valid/);
  });

  test("a tampered cookie (a later expiry under the original signature) is refused", async () => {
    const { value, session } = await signSession(ADMIN_TOKEN, ADMIN, { now: Date.now() - SESSION_TTL_MS - 1000 });
    const [version, , signature] = value.split(".");
    const longer = { ...session, exp: Date.now() + 365 * 24 * 3600_000 };
    const payload = base64urlEncode(new TextEncoder().encode(JSON.stringify(longer)));
    await expectRefused(`${version}.${payload}.${signature}`, /not valid/);
  });

  test("a tampered cookie (another operator under the original signature) is refused", async () => {
    const { value, session } = await signSession(ADMIN_TOKEN, { kind: "access", email: "a@example.com" });
    const [version, , signature] = value.split(".");
    const payload = base64urlEncode(new TextEncoder().encode(JSON.stringify({ ...session, op: ADMIN })));
    await expectRefused(`${version}.${payload}.${signature}`, /not valid/);
  });

  test("an expired cookie is refused, even one second past its expiry", async () => {
    const { value } = await signSession(ADMIN_TOKEN, ADMIN, { now: Date.now() - SESSION_TTL_MS - 1000 });
    await expectRefused(value, /expired/);
  });

  test("a cookie signed under an old admin token is refused", async () => {
    const { value } = await signSession("the-admin-token-before-rotation", ADMIN);
    await expectRefused(value, /another admin token/);
  });

  test.each([
    ["garbage", "garbage"],
    ["an unknown version", "v2.e30.AAAA"],
    ["a bad base64 signature", "v1.e30.!!!!"],
    ["an empty payload with a short signature", "v1..AAAA"],
  ])("a malformed cookie (%s) is refused", async (_what, cookie) => {
    await expectRefused(cookie, /not valid/);
  });

  test("rotating the admin token signs out every session issued before", async () => {
    const before = { ...env, TETHER_ADMIN_TOKEN: "admin-token-one" };
    const after = { ...env, TETHER_ADMIN_TOKEN: "admin-token-two" };
    const signInRes = await app.fetch(
      new Request(`${EDGE}/console/sign-in`, {
        ...form({ token: "admin-token-one" }),
        headers: { "content-type": "application/x-www-form-urlencoded", origin: EDGE },
      }),
      before,
    );
    expect(signInRes.status).toBe(303);
    const cookie = (signInRes.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const open = (withEnv: typeof env) =>
      app.fetch(new Request(`${EDGE}/console`, { headers: { cookie }, redirect: "manual" }), withEnv);
    expect((await open(before)).status).toBe(200);
    const rotated = await open(after);
    expect(rotated.status).toBe(302);
    expect(rotated.headers.get("location")).toBe("/console/sign-in");
    // And the old token no longer signs anyone in.
    const stale = await app.fetch(
      new Request(`${EDGE}/console/sign-in`, {
        ...form({ token: "admin-token-one" }),
        headers: { "content-type": "application/x-www-form-urlencoded", origin: EDGE },
      }),
      after,
    );
    expect(stale.status).toBe(401);
  });

  test("an edge without an admin token offers no token sign-in and accepts no cookie", async () => {
    const { TETHER_ADMIN_TOKEN: _, ...withoutToken } = env;
    const page = await app.fetch(new Request(`${EDGE}/console/sign-in`), withoutToken);
    expect(await page.text()).toContain("no admin token");
    const { value } = await signSession(ADMIN_TOKEN, ADMIN);
    const res = await app.fetch(
      new Request(`${EDGE}/console`, { method: "POST", headers: { cookie: `tether_console=${value}` } }),
      withoutToken,
    );
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/TETHER_ADMIN_TOKEN/);
  });
});

describe("one-time sign-in links", () => {
  async function mintLink(): Promise<{ url: string; expiresAt: string; path: string }> {
    const res = await admin("POST", "/admin/console/sign-in-links");
    expect(res.status).toBe(201);
    const body = (await res.json()) as { url: string; expiresAt: string };
    return { ...body, path: new URL(body.url).pathname };
  }

  test("the admin API mints a link valid for 10 minutes; opening it signs in and lands on the console", async () => {
    const before = Date.now();
    const link = await mintLink();
    expect(link.url).toMatch(new RegExp(`^${EDGE}/console/sign-in/link/[A-Za-z0-9_-]{40,}$`));
    const expiresIn = Date.parse(link.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000 + 5_000);
    const res = await consoleFetch(link.path);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console");
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]?.replace("tether_console=", "") ?? "";
    expect((await consoleFetch("/console", { cookie })).status).toBe(200);
  });

  test("a HEAD (a link checker) does not use the link up", async () => {
    const link = await mintLink();
    const head = await consoleFetch(link.path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("set-cookie")).toBeNull();
    expect((await consoleFetch(link.path)).status).toBe(303);
  });

  test("a link works once", async () => {
    const link = await mintLink();
    expect((await consoleFetch(link.path)).status).toBe(303);
    const again = await consoleFetch(link.path);
    expect(again.status).toBe(401);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await again.text()).toContain("unknown, already used or expired");
  });

  test("an expired link is refused (and used up)", async () => {
    const code = "expired-code-0123456789abcdef";
    await registry(env).addSignInLink(await hashToken(code), ADMIN, Date.now() - 1);
    const res = await consoleFetch(`/console/sign-in/link/${code}`);
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  test.each([
    ["an unknown code", "unknown-code-0123456789abcdef"],
    ["a too short code", "abc"],
    ["a code with odd characters", "abc%2F..%2F0123456789abcdefghij"],
  ])("%s is refused", async (_what, code) => {
    const res = await consoleFetch(`/console/sign-in/link/${code}`);
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  test("minting a link needs the admin token", async () => {
    const res = await consoleFetch("/admin/console/sign-in-links", { method: "POST" });
    expect(res.status).toBe(401);
  });
});

afterAll(async () => {
  // Nothing the console answered carries the admin token or the derived cookie key.
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(ADMIN_TOKEN), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new TextEncoder().encode("tether console v1"),
        info: new TextEncoder().encode("tether console session"),
      },
      material,
      256,
    ),
  );
  const key = base64urlEncode(bits);
  const keyHex = [...bits].map((b) => b.toString(16).padStart(2, "0")).join("");
  expect(seen.length).toBeGreaterThan(20);
  for (const response of seen) {
    const text = `${response.body}\n${[...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}`;
    for (const secret of [ADMIN_TOKEN, key, keyHex]) expect(text, response.what).not.toContain(secret);
  }
});

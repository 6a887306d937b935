import { describe, expect, test } from "vitest";
import { accessConfig } from "../../src/auth/access-jwt.ts";
import { base64urlDecode, base64urlEncode } from "../../src/auth/base64url.ts";
import { safeNextPath, signInPath } from "../../src/console/auth/next-path.ts";
import { SESSION_TTL_MS, signSession, verifySession } from "../../src/console/auth/session-cookie.ts";
import {
  MAX_FAILURES,
  recordSignInFailure,
  recordSignInSuccess,
  signInBlockedFor,
  WINDOW_MS,
} from "../../src/console/auth/sign-in-throttle.ts";

describe("where signing in returns to", () => {
  test.each([
    ["/console", "/console"],
    ["/console/", "/console/"],
    ["/console/tunnels/a?x=1&y=2", "/console/tunnels/a?x=1&y=2"],
    ["/console/../admin/tunnels", "/console"],
    ["/console/%2e%2e/admin", "/console"],
    ["//evil.example", "/console"],
    ["/\\evil.example", "/console"],
    ["https://evil.example/console", "/console"],
    ["javascript:alert(1)", "/console"],
    ["/console\u0000/x", "/console"],
    ["/console/sign-in?next=/console", "/console"],
    ["/consoles", "/console"],
    ["", "/console"],
    [null, "/console"],
  ])("%j → %j", (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });

  test("the sign-in address carries the page only when there is one to return to", () => {
    expect(signInPath("/console")).toBe("/console/sign-in");
    expect(signInPath("/console/tunnels?page=2")).toBe("/console/sign-in?next=%2Fconsole%2Ftunnels%3Fpage%3D2");
  });
});

describe("session cookies (WebCrypto, as at the edge)", () => {
  const operator = { kind: "admin-token" } as const;

  test("a cookie verifies under its admin token until it expires, and never under another", async () => {
    const now = 1_800_000_000_000;
    const { value, session } = await signSession("token-a", operator, { now });
    expect(session.exp - session.iat).toBe(SESSION_TTL_MS);
    expect(await verifySession("token-a", value, now + 1000)).toEqual({ ok: true, session });
    expect(await verifySession("token-a", value, now + SESSION_TTL_MS)).toEqual({ ok: false, reason: "expired" });
    expect(await verifySession("token-b", value, now)).toEqual({ ok: false, reason: "bad-signature" });
  });

  test("a cookie issued in the future (beyond clock skew) is refused", async () => {
    const { value } = await signSession("token-a", operator, { now: 2_000_000_000_000 });
    expect(await verifySession("token-a", value, 1_999_999_000_000)).toEqual({ ok: false, reason: "not-yet-valid" });
  });

  test("a validly signed payload that is not a session is refused as malformed", async () => {
    const { value } = await signSession("token-a", { kind: "access", email: "a@example.com" }, { now: 1 });
    expect((await verifySession("token-a", `${value}x`, 2)).ok).toBe(false);
    expect(await verifySession("token-a", "v1.x", 2)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("sign-in throttle", () => {
  test("blocks an address after the limit for the rest of its window; success clears it", () => {
    const now = 5_000_000;
    for (let i = 0; i < MAX_FAILURES - 1; i++) recordSignInFailure("198.51.100.1", now);
    expect(signInBlockedFor("198.51.100.1", now)).toBe(0);
    recordSignInFailure("198.51.100.1", now);
    expect(signInBlockedFor("198.51.100.1", now + 1000)).toBe(WINDOW_MS - 1000);
    expect(signInBlockedFor("198.51.100.2", now)).toBe(0);
    expect(signInBlockedFor("198.51.100.1", now + WINDOW_MS)).toBe(0);
    recordSignInFailure("198.51.100.3", now);
    recordSignInSuccess("198.51.100.3");
    expect(signInBlockedFor("198.51.100.3", now)).toBe(0);
  });
});

describe("Access configuration and base64url", () => {
  test("a team domain becomes an https issuer; a full URL (local testing) is kept", () => {
    expect(accessConfig({ ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.com", ACCESS_AUD: "a" })).toEqual({
      issuer: "https://team.cloudflareaccess.com",
      certsUrl: "https://team.cloudflareaccess.com/cdn-cgi/access/certs",
      audience: "a",
    });
    expect(accessConfig({ ACCESS_TEAM_DOMAIN: "http://127.0.0.1:9999/", ACCESS_AUD: "a" })?.certsUrl).toBe(
      "http://127.0.0.1:9999/cdn-cgi/access/certs",
    );
    expect(() => accessConfig({ ACCESS_TEAM_DOMAIN: "http://team.example.com", ACCESS_AUD: "a" })).toThrow(
      /http:\/\/ only for a loopback address/,
    );
    expect(() => accessConfig({ ACCESS_TEAM_DOMAIN: "bad host/x y", ACCESS_AUD: "a" })).toThrow(
      /not a host name or URL/,
    );
    expect(accessConfig({ ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.com" })).toBeNull();
    expect(accessConfig({ ACCESS_AUD: "a" })).toBeNull();
  });

  test("base64url round-trips and refuses what is not base64url", () => {
    const bytes = new Uint8Array([0, 255, 62, 63, 1]);
    expect(base64urlDecode(base64urlEncode(bytes))).toEqual(bytes);
    expect(base64urlDecode("ab+/")).toBeNull();
    expect(base64urlDecode("abcde")).toBeNull();
  });
});

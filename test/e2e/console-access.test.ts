/**
 * Cloudflare Access in front of the console and the admin API, against a local stand-in for the
 * Access team's key server (test/helpers/access-stand-in.ts): the real edge in workerd fetches the
 * stand-in's JWKS and verifies JWTs signed with its generated RSA keys.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { csrfTokenFor } from "../../src/console/auth/csrf.ts";
import { CONSOLE_SECURITY_HEADERS } from "../../src/console/auth/security-headers.ts";
import {
  type AccessStandIn,
  b64url,
  hs256WithPublicKey,
  newAccessKey,
  startAccessStandIn,
} from "../helpers/access-stand-in.ts";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";

let access: AccessStandIn;
let edge: RunningEdge;

beforeAll(async () => {
  access = await startAccessStandIn();
  edge = await startEdge({ vars: { ACCESS_TEAM_DOMAIN: access.teamDomain, ACCESS_AUD: access.audience } });
});
afterAll(async () => {
  await edge?.close();
  await access?.close();
});

function withJwt(jwt: string, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("cf-access-jwt-assertion", jwt);
  return { ...init, headers, redirect: "manual" };
}

async function refusal(res: Response): Promise<string> {
  expect(res.status).toBe(401);
  return ((await res.json()) as { error: { message: string } }).error.message;
}

describe("a valid Access JWT", () => {
  test("opens the console without a session cookie", async () => {
    const res = await fetch(`${edge.url}/console`, withJwt(access.jwt()));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("<h1>Tunnels</h1>");
    expect(html).toContain('Signed in as <strong data-testid="operator">operator@example.com</strong>');
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_SECURITY_HEADERS["Content-Security-Policy"]);
  });

  test("opens the admin API without the admin token", async () => {
    const res = await fetch(`${edge.url}/admin/tunnels`, withJwt(access.jwt()));
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty("tunnels");
  });

  test("an audience list that contains ours is accepted; a service token (common_name, no email) too", async () => {
    const listed = access.jwt({ claims: { aud: ["another-app", access.audience] } });
    expect((await fetch(`${edge.url}/admin/tunnels`, withJwt(listed))).status).toBe(200);
    const service = access.jwt({ claims: { email: undefined, common_name: "ci.access" } });
    expect((await fetch(`${edge.url}/console`, withJwt(service))).status).toBe(200);
  });

  test("console actions still need the CSRF token and this origin", async () => {
    const jwt = access.jwt();
    const csrf = await csrfTokenFor(jwt, "access");
    const post = (headers: Record<string, string>) =>
      fetch(`${edge.url}/console/no-such-page`, withJwt(jwt, { method: "POST", headers }));
    expect((await post({ origin: edge.url })).status).toBe(403);
    expect((await post({ origin: "https://evil.example", "x-csrf-token": csrf })).status).toBe(403);
    expect((await post({ origin: edge.url, "x-csrf-token": await csrfTokenFor(access.jwt(), "access") })).status).toBe(
      403,
    );
    expect((await post({ origin: edge.url, "x-csrf-token": csrf })).status).toBe(404);
  });

  test("signing out hands the browser to Access's own logout (the JWT would sign it straight back in)", async () => {
    const jwt = access.jwt();
    const res = await fetch(
      `${edge.url}/console/sign-out`,
      withJwt(jwt, {
        method: "POST",
        headers: { origin: edge.url, "x-csrf-token": await csrfTokenFor(jwt, "access") },
      }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/cdn-cgi/access/logout");
  });

  test("an admin action through Access is audited under the person's email, one with the token as admin-token", async () => {
    const jwt = access.jwt({ claims: { email: "alice@example.com" } });
    const viaAccess = await fetch(
      `${edge.url}/admin/tokens`,
      withJwt(jwt, { method: "POST", headers: { "content-type": "application/json" }, body: '{"label":"by-alice"}' }),
    );
    expect(viaAccess.status).toBe(201);
    const viaToken = await fetch(`${edge.url}/admin/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" },
      body: '{"label":"by-token"}',
    });
    expect(viaToken.status).toBe(201);
    const ids = [(await viaAccess.json()) as { id: string }, (await viaToken.json()) as { id: string }].map(
      (t) => t.id,
    );
    const audit = await fetch(`${edge.url}/admin/audit?kind=operator_action&format=jsonl`, withJwt(access.jwt()));
    expect(audit.status).toBe(200);
    const records = (await audit.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { who: string; target?: string });
    expect(records.find((r) => r.target === ids[0])?.who).toBe("alice@example.com");
    expect(records.find((r) => r.target === ids[1])?.who).toBe("admin-token");
  });

  test("the admin token keeps working beside Access", async () => {
    const res = await fetch(`${edge.url}/admin/tunnels`, { headers: { authorization: `Bearer ${edge.adminToken}` } });
    expect(res.status).toBe(200);
  });

  test("keys are cached: many requests, few key fetches; a new key (unknown kid) is fetched when first seen", async () => {
    const before = access.certFetches();
    for (let i = 0; i < 10; i++) expect((await fetch(`${edge.url}/console`, withJwt(access.jwt()))).status).toBe(200);
    expect(access.certFetches() - before).toBeLessThanOrEqual(1);
    const beforeRotation = access.certFetches();
    access.rotate();
    expect((await fetch(`${edge.url}/console`, withJwt(access.jwt()))).status).toBe(200);
    expect(access.certFetches()).toBeGreaterThan(beforeRotation);
  });

  test("without a JWT or a session, the console still sends people to sign in", async () => {
    const res = await fetch(`${edge.url}/console`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/console/sign-in");
    const page = await fetch(`${edge.url}/console/sign-in`);
    expect(await page.text()).toContain("Cloudflare Access");
  });
});

describe("Access JWTs the edge refuses (console and admin API)", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => string, RegExp]> = [
    ["the wrong audience", () => access.jwt({ claims: { aud: ["someone-elses-app"] } }), /wrong audience/],
    [
      "a string audience that is not ours",
      () => access.jwt({ claims: { aud: "someone-elses-app" } }),
      /wrong audience/,
    ],
    [
      "a tampered payload (the signature no longer matches)",
      () => {
        const [header, , signature] = access.jwt().split(".");
        const claims = { aud: [access.audience], email: "admin@example.com", exp: now() + 600, iss: access.teamDomain };
        return `${header}.${b64url(JSON.stringify(claims))}.${signature}`;
      },
      /bad signature/,
    ],
    [
      "a signature by a key the team does not publish (same kid)",
      () => access.jwt({ key: { ...newAccessKey(), kid: access.key().kid } }),
      /bad signature/,
    ],
    [
      "a key id the team does not publish",
      () => access.jwt({ key: newAccessKey() }),
      /key this Access team does not publish/,
    ],
    ["an expired token", () => access.jwt({ claims: { exp: now() - 120 } }), /expired/],
    ["a token not yet valid", () => access.jwt({ claims: { nbf: now() + 600 } }), /not yet valid/],
    [
      "another issuer",
      () => access.jwt({ claims: { iss: "https://other-team.cloudflareaccess.com" } }),
      /wrong issuer/,
    ],
    ["no identity", () => access.jwt({ claims: { email: undefined } }), /names no email/],
    ["garbage", () => "not-a-jwt", /malformed/],
    ["two parts", () => access.jwt().split(".").slice(0, 2).join("."), /malformed/],
    [
      "a header that is not JSON",
      () => `${b64url("{{")}.${access.jwt().split(".").slice(1).join(".")}`,
      /malformed header/,
    ],
    [
      "alg none",
      () => {
        const [, claims] = access.jwt().split(".");
        return `${b64url(JSON.stringify({ alg: "none", kid: access.key().kid }))}.${claims}.`;
      },
      /algorithm none is not accepted/,
    ],
    ["HS256 keyed with the public key", () => hs256WithPublicKey(access), /algorithm HS256 is not accepted/],
    ["no kid", () => access.jwt({ header: { kid: undefined } }), /no key id/],
  ];

  test.each(cases)("%s is refused with 401 and says why", async (_what, make, why) => {
    const jwt = make();
    for (const path of ["/console", "/admin/tunnels"]) {
      const res = await fetch(`${edge.url}${path}`, withJwt(jwt));
      const message = await refusal(res);
      expect(message, path).toMatch(/^Cloudflare Access JWT refused: /);
      expect(message, path).toMatch(why);
      if (path === "/console") {
        for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
      }
    }
  });
});

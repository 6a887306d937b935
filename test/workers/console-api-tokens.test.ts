import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { registry } from "../../durable-objects/registry.ts";
import { expectNoSecrets, page, post, tableRows, textOf } from "./console-page-fixtures.ts";
import { warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

function secretOn(html: string): string {
  const secret = /<code data-testid="secret">([^<]+)<\/code>/.exec(html)?.[1];
  if (!secret) throw new Error("no secret on the page");
  return secret;
}

describe("console: API tokens", () => {
  test("creating one shows its secret once, with its backends; it works; the list never shows it", async () => {
    const label = `orchestrator ${crypto.randomUUID().slice(0, 6)}`;
    const res = await post("/console/tokens", { label, backends: "edge gateway:tools" });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const secret = secretOn(await res.text());
    expect(await registry(env).verifyApiTokenScope(secret)).toMatchObject({ backends: ["edge", "gateway:tools"] });
    const list = await page("/console/tokens");
    const row = tableRows(list, "api-tokens")
      .map(textOf)
      .find((r) => r.includes(label));
    expect(row).toMatch(/edge gateway:tools .* live Revoke/);
    expectNoSecrets(list, [secret]);
  });

  test("without backends a token gets the default scope (the edge only)", async () => {
    const secret = secretOn(await (await post("/console/tokens", { label: "default scope", backends: "" })).text());
    expect(await registry(env).verifyApiTokenScope(secret)).toMatchObject({ backends: ["edge"] });
  });

  test("a bad label or scope is refused as a page and mints nothing", async () => {
    const before = (await registry(env).listApiTokens()).length;
    const cases: Array<Record<string, string>> = [
      { label: "" },
      { label: "x", backends: "cloud:*" },
      { label: "y".repeat(201) },
    ];
    for (const fields of cases) {
      const res = await post("/console/tokens", fields);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("<h1>Refused</h1>");
    }
    expect(await registry(env).listApiTokens()).toHaveLength(before);
  });

  test("revoking one stops it at once and marks it revoked; an unknown id is a 404 page", async () => {
    const secret = secretOn(await (await post("/console/tokens", { label: "to revoke" })).text());
    const id = (await registry(env).verifyApiTokenScope(secret))!.id;
    expect(await page("/console/tokens")).toContain(`aria-label="Revoke API token ${id}"`);
    const res = await post(`/console/tokens/${id}/revoke`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/tokens?notice=api-token-revoked");
    expect(await registry(env).verifyApiTokenScope(secret)).toBeNull();
    const list = await page("/console/tokens?notice=api-token-revoked");
    expect(list).toContain("API token revoked.");
    expect(list).not.toContain(`aria-label="Revoke API token ${id}"`);
    expect((await post(`/console/tokens/${id}/revoke`)).status).toBe(404);
    expect((await post("/console/tokens/nope/revoke")).status).toBe(404);
  });

  test("labels with markup are escaped", async () => {
    await post("/console/tokens", { label: `<script>alert(1)</script>` });
    const html = await page("/console/tokens");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

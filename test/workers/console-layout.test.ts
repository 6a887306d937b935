import { describe, expect, test } from "vitest";
import { ASSET_URLS } from "../../src/console/assets/registry.ts";
import { consoleFetch, operatorCsrf, page, post } from "./console-page-fixtures.ts";
import { createTunnel, warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

describe("console: the frame and its assets", () => {
  test("the stylesheet and script are served with their types, cacheable for a year under hashed names", async () => {
    for (const [url, type] of [
      [ASSET_URLS.css, "text/css; charset=utf-8"],
      [ASSET_URLS.js, "text/javascript; charset=utf-8"],
    ] as const) {
      expect(url).toMatch(/^\/console\/assets\/console\.[0-9a-f]{8}\.(css|js)$/);
      const res = await consoleFetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await res.text()).length).toBeGreaterThan(500);
    }
    expect((await consoleFetch("/console/assets/console.00000000.css")).status).toBe(404);
  });

  test("every page has a skip link, one main landmark, the navigation, the operator and a sign-out form", async () => {
    const tunnel = await createTunnel();
    for (const [path, current] of [
      ["/console/tunnels", "Tunnels"],
      [`/console/tunnels/${tunnel.name}`, "Tunnels"],
      [`/console/tunnels/${tunnel.name}/trace`, "Tunnels"],
      [`/console/tunnels/${tunnel.name}/sessions`, "Tunnels"],
      ["/console/sandboxes", "Sandboxes"],
      ["/console/tokens", "API tokens"],
    ]) {
      const html = await page(path!);
      expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
      expect(html).toContain('<a class="skip-link" href="#main">Skip to content</a>');
      expect(html.match(/<main /g)).toHaveLength(1);
      expect(html).toContain('<nav class="site-nav" aria-label="Console sections">');
      expect(html).toContain(`aria-current="page">${current}</a>`);
      expect(html).toContain('Signed in as <strong data-testid="operator">admin-token</strong>');
      expect(html).toContain(
        `<form method="post" action="/console/sign-out"><input type="hidden" name="_csrf" value="${await operatorCsrf()}"/>`,
      );
      expect(html).toContain(`<link rel="stylesheet" href="${ASSET_URLS.css}"/>`);
      // The Content-Security-Policy allows no inline script or style.
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/<style/);
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(html).not.toMatch(/\son[a-z]+=/);
      // Every form that changes something carries the CSRF field.
      for (const form of html.match(/<form method="post"[^>]*>.*?<\/form>/gs) ?? []) {
        expect(form).toContain(`name="_csrf" value="${await operatorCsrf()}"`);
      }
      // Every input, select and textarea has a label.
      for (const match of html.matchAll(/<(input|select|textarea) ([^>]*)>/g)) {
        const attributes = match[2] ?? "";
        if (/type="hidden"/.test(attributes)) continue;
        const id = /id="([^"]+)"/.exec(attributes)?.[1];
        expect(id, `${match[0]} on ${path} has an id`).toBeDefined();
        expect(html, `${match[0]} on ${path} has a label`).toContain(`<label for="${id}">`);
      }
      expect(html).not.toMatch(/<th(?=[\s>])(?![^>]*scope=)[^>]*>/);
    }
  });

  test("the console's home is the tunnels list", async () => {
    expect(await page("/console")).toContain("<h1>Tunnels</h1>");
  });

  test("a form larger than the limit is refused before anything is done", async () => {
    const res = await post("/console/tunnels", { name: "big", allowedOrigins: "x".repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain("<h1>Refused</h1>");
  });
});

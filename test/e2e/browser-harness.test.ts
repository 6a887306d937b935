/**
 * The browser harness itself, against a few static pages on 127.0.0.1: it must catch what the
 * console tests rely on it to catch (console errors, CSP violations, failed requests, axe
 * violations), write screenshots, and leave no Chromium process behind.
 */
import { existsSync, statSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  axeViolations,
  expectAccessible,
  isRunning,
  launchBrowser,
  openPage,
  type RunningBrowser,
  screenshot,
  tab,
} from "../helpers/browser.ts";
import { descendants } from "../helpers/processes.ts";
import { serveWeb, type WebHttpServer } from "../helpers/web-http-server.ts";

const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'";

const PAGES: Record<string, string> = {
  "/clean": `<main><h1>Sign in</h1><form><label for="t">Admin token</label>
    <input id="t" name="token" type="password"><button type="submit">Sign in</button></form>
    <nav aria-label="Sections"><a href="/one">One</a> <a href="/two">Two</a></nav></main>`,
  "/inline-script": `<main><h1>Blocked</h1><script>document.title = "ran"</script></main>`,
  "/console-error": `<main><h1>Noisy</h1><script src="/noisy.js"></script></main>`,
  "/missing": `<main><h1>Broken image</h1><img src="http://127.0.0.1:9/nothing.png" alt="nothing"></main>`,
  "/unlabelled": `<main><h1>Form</h1><input type="text" name="nameless"></main>`,
};

let server: WebHttpServer;
let browser: RunningBrowser;

beforeAll(async () => {
  server = await serveWeb(async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/noisy.js") {
      return new Response(`console.error("something broke")`, { headers: { "content-type": "text/javascript" } });
    }
    const body = PAGES[path];
    if (body === undefined) return new Response("not found", { status: 404 });
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${path}</title></head><body>${body}</body></html>`;
    return new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        // /missing's image points elsewhere on purpose: the CSP would hide the failed request otherwise.
        "content-security-policy": path === "/missing" ? "default-src *" : STRICT_CSP,
      },
    });
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test("a clean page passes: no problems, no serious axe violations, a screenshot on disk", async () => {
  const watched = await openPage(browser, { baseURL: server.url });
  await watched.page.goto("/clean");
  await expectAccessible(watched.page);
  const path = await screenshot(watched.page, "harness-clean");
  expect(existsSync(path) && statSync(path).size).toBeGreaterThan(1_000);
  watched.assertClean();
  await watched.close();
});

test("an inline script under a strict CSP is a reported problem, and it did not run", async () => {
  const watched = await openPage(browser, { baseURL: server.url });
  await watched.page.goto("/inline-script");
  await expect.poll(() => watched.problems().join("\n")).toMatch(/CSP violation: script-src/);
  expect(await watched.page.title()).toBe("/inline-script");
  expect(() => watched.assertClean()).toThrow(/Content Security Policy|CSP violation/);
  await watched.close();
});

test("a console error and a failed request are reported; an allowed one is not", async () => {
  const noisy = await openPage(browser, { baseURL: server.url });
  await noisy.page.goto("/console-error");
  await expect.poll(() => noisy.problems().join("\n")).toMatch(/console error .*something broke/);
  await noisy.close();

  const missing = await openPage(browser, { baseURL: server.url });
  await missing.page.goto("/missing");
  await expect.poll(() => missing.problems().join("\n")).toMatch(/request failed: GET http:\/\/127\.0\.0\.1:9\//);
  await missing.close();

  const tolerant = await openPage(browser, { baseURL: server.url });
  tolerant.allow(/something broke/);
  await tolerant.page.goto("/console-error");
  await tolerant.page.waitForLoadState("load");
  tolerant.assertClean();
  await tolerant.close();
});

test("axe runs under the strict CSP and names the rule a page breaks", async () => {
  const watched = await openPage(browser, { baseURL: server.url });
  await watched.page.goto("/unlabelled");
  const violations = await axeViolations(watched.page);
  expect(violations.map((violation) => violation.id)).toContain("label");
  await expect(expectAccessible(watched.page)).rejects.toThrow(/label \(critical\)[\s\S]*input/);
  watched.assertClean();
  await watched.close();
});

test("Tab walks the controls in order and reports whether focus shows", async () => {
  const watched = await openPage(browser, { baseURL: server.url });
  await watched.page.goto("/clean");
  const stops = [await tab(watched.page), await tab(watched.page), await tab(watched.page)];
  expect(stops.map((stop) => stop.label)).toEqual(['input "Admin token"', 'button "Sign in"', 'a "One"']);
  // Chromium's default focus ring is an outline.
  expect(stops.every((stop) => stop.visible)).toBe(true);
  await watched.close();
});

test("closing the browser leaves no Chromium process behind", async () => {
  const other = await launchBrowser();
  const watched = await openPage(other, { baseURL: server.url });
  await watched.page.goto("/clean");
  const tree = [other.pid, ...descendants(other.pid)];
  expect(tree.length).toBeGreaterThan(1);
  await other.close();
  expect(tree.filter(isRunning)).toEqual([]);
});

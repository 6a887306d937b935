/**
 * The console by keyboard alone, and the API tokens page, in real Chromium against the edge in
 * workerd: Tab reaches the skip link, the sections and sign-out, then each page's main actions, in
 * order, with a visible focus ring; Enter activates them. An API token is created (its secret
 * shown once and accepted by the API), then revoked (and refused by the API).
 */
import type { Page } from "playwright-core";
import { expect, test } from "vitest";
import { type Focused, screenshot, tab } from "../helpers/browser.ts";
import { checkPage, checkPhone, consoleRig } from "./console-helpers.ts";

const rig = consoleRig();

/** Tabs until focus lands on `last` (or gives up after `limit` stops); every stop must show focus. */
async function tabUntil(page: Page, last: string, limit = 40): Promise<Focused[]> {
  const stops: Focused[] = [];
  while (stops.length < limit) {
    const stop = await tab(page);
    stops.push(stop);
    if (stop.label === last) break;
  }
  const hidden = stops.filter((stop) => !stop.visible);
  expect(
    hidden.map((stop) => stop.label),
    "focus shows on every stop",
  ).toEqual([]);
  return stops;
}

/** `expected` appear in `stops`, in this order (other stops may come between). */
function expectInOrder(stops: Focused[], expected: string[]): void {
  const labels = stops.map((stop) => stop.label);
  let from = 0;
  for (const label of expected) {
    const at = labels.indexOf(label, from);
    if (at < 0) throw new Error(`Tab never reached ${label} in order; the stops were: ${labels.join(", ")}`);
    from = at + 1;
  }
}

const HEADER = [
  'a "Skip to content"',
  'a "Tether"',
  'a "Tunnels"',
  'a "Sandboxes"',
  'a "API tokens"',
  'button "Sign out"',
];

test("Tab walks the header then the tunnels page's actions in order; Enter creates a tunnel", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto("/console/tunnels");
  const stops = await tabUntil(page, 'button "Create tunnel"');
  expectInOrder(stops, [...HEADER, 'input "Name"', 'button "Create tunnel"']);

  // Back to the field by keyboard; typing and Enter submit the form.
  await page.goto("/console/tunnels");
  await tabUntil(page, 'input "Name"');
  await page.keyboard.type("by-keyboard");
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === "/console/tunnels");
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Tunnel by-keyboard created");
});

test("the skip link moves focus to the content; Enter on a section link opens it", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto("/console/tunnels");
  expect((await tab(page)).label).toBe('a "Skip to content"');
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");

  await page.goto("/console/tunnels");
  const stops = await tabUntil(page, 'a "Sandboxes"');
  expect(stops.at(-1)?.label).toBe('a "Sandboxes"');
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === "/console/sandboxes");
  // The current section is announced as such.
  expect(await page.getByRole("link", { name: "Sandboxes" }).getAttribute("aria-current")).toBe("page");
});

test("API tokens by keyboard: create one (shown once, usable), then revoke it (refused)", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto("/console/tokens");
  const stops = await tabUntil(page, 'input "Label"');
  expectInOrder(stops, [...HEADER, 'input "Label"']);
  await page.keyboard.type("nightly-ci");
  const button = await tabUntil(page, 'button "Create API token"', 4);
  expect(button.at(-1)?.label).toBe('button "Create API token"');
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === "/console/tokens");
  const secret = (await page.getByTestId("secret").textContent())?.trim() ?? "";
  expect(secret.length).toBeGreaterThan(20);
  const id = /API token (\S+) created/.exec((await page.getByRole("heading", { level: 1 }).textContent()) ?? "")?.[1];
  if (!id) throw new Error("the created page names no token id");
  await checkPage(watched, "api-token-created");

  // The secret is real: the API takes it.
  const created = await createSandbox(secret);
  expect(created).toBe(201);

  // Listed by id, the secret nowhere, after a reload too.
  await page.getByRole("link", { name: "Back to API tokens" }).click();
  await page.reload();
  const row = page.locator("table#api-tokens tbody tr", { hasText: id });
  await expect.poll(() => row.textContent()).toContain("nightly-ci");
  expect(await page.content()).not.toContain(secret);
  await checkPage(watched, "api-tokens");

  await row.getByRole("button", { name: `Revoke API token ${id}` }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === "/console/tokens");
  await expect.poll(() => row.textContent()).toMatch(/revoked/);
  await screenshot(page, "api-token-revoked");
  expect(await createSandbox(secret)).toBe(401);
});

test("on a phone: the API tokens page fits the screen", async () => {
  await checkPhone(rig, "/console/tokens", "api-tokens");
});

async function createSandbox(token: string): Promise<number> {
  const response = await fetch(`${rig.edge().url}/v1/sandboxes`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
    signal: AbortSignal.timeout(60_000),
  });
  await response.body?.cancel();
  return response.status;
}

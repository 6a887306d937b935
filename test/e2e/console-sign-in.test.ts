/**
 * Signing in to the console and out again, in real Chromium against the edge in workerd: the
 * admin-token form, the session cookie the browser keeps (and cannot read), sign-out, and a console
 * that refuses the browser afterwards.
 */
import { expect, test } from "vitest";
import { PHONE, screenshot, tab } from "../helpers/browser.ts";
import { checkPage, consoleRig, signIn } from "./console-helpers.ts";

const rig = consoleRig();

test("a signed-out browser is sent to sign in; the page is accessible", async () => {
  const watched = await rig.open();
  const { page } = watched;
  await page.goto("/console/tunnels");
  const url = new URL(page.url());
  expect(url.pathname).toBe("/console/sign-in");
  expect(url.searchParams.get("next")).toBe("/console/tunnels");
  await expect.poll(() => page.getByLabel("Admin token").isVisible()).toBe(true);
  await checkPage(watched, "sign-in");
});

test("a wrong token is refused with the reason, and no session starts", async () => {
  const watched = await rig.open();
  const { page, context } = watched;
  // The refusal is a 401 page, which Chromium reports in the console: provoked here on purpose.
  watched.allow(/status of 401/);
  await page.goto("/console/sign-in");
  await page.getByLabel("Admin token").fill("adm_not-the-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/admin token/);
  expect(new URL(page.url()).pathname).toBe("/console/sign-in");
  expect(await context.cookies()).toEqual([]);
  await screenshot(page, "sign-in-refused");
});

test("the admin token signs in: a session cookie script cannot read, and the console opens", async () => {
  const watched = await rig.open();
  const { page, context } = watched;
  await signIn(watched, rig.edge().adminToken, "/console/tunnels");
  // Back where the operator was going.
  expect(new URL(page.url()).pathname).toBe("/console/tunnels");
  await expect.poll(() => page.getByRole("button", { name: "Sign out" }).isVisible()).toBe(true);
  const cookies = await context.cookies();
  expect(cookies).toHaveLength(1);
  expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/console" });
  // Neither the token nor the cookie is visible to the page's scripts.
  expect(await page.evaluate(() => document.cookie)).toBe("");
  expect(await page.content()).not.toContain(rig.edge().adminToken);
  watched.assertClean();
});

test("sign-out ends the session: the console refuses the browser afterwards", async () => {
  const watched = await rig.signedIn();
  const { page, context } = watched;
  await page.goto("/console/tunnels");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname === "/console/sign-in");
  expect(await context.cookies()).toEqual([]);

  // Pages send the browser to sign in again; an action straight from the page is refused.
  await page.goto("/console/tunnels");
  expect(new URL(page.url()).pathname).toBe("/console/sign-in");
  watched.allow(/status of 401/);
  const status = await page.evaluate(async () => {
    const response = await fetch("/console/tokens", { method: "POST", body: new URLSearchParams() });
    return response.status;
  });
  expect(status).toBe(401);
  await screenshot(page, "signed-out");
});

test("on a phone the sign-in form fits the screen", async () => {
  const watched = await rig.open(PHONE);
  const { page } = watched;
  await page.goto("/console/sign-in");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await checkPage(watched, "sign-in-phone");
});

test("keyboard only: Tab reaches the token field then the button, Enter signs in, focus shows", async () => {
  const watched = await rig.open();
  const { page } = watched;
  await page.goto("/console/sign-in");
  const stops = [];
  for (let i = 0; i < 8; i++) {
    const stop = await tab(page);
    stops.push(stop);
    if (stop.label.startsWith("input")) break;
  }
  const field = stops.at(-1);
  expect(field?.label).toBe('input "Admin token"');
  expect(field?.visible).toBe(true);
  await page.keyboard.type(rig.edge().adminToken);
  const button = await tab(page);
  expect(button).toEqual({ label: 'button "Sign in"', visible: true });
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname !== "/console/sign-in");
  await expect.poll(() => page.getByRole("button", { name: "Sign out" }).isVisible()).toBe(true);
});

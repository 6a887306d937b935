/**
 * Signing in to the console and out again, in real Chromium against the edge in workerd: the
 * admin-token form, the session cookie the browser keeps (and cannot read), sign-out, and a console
 * that refuses the browser afterwards.
 */
import { expect, test } from "vitest";
import { PHONE, screenshot } from "../helpers/browser.ts";
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
  await signIn(watched, rig.edge().adminToken, "/console");
  expect(new URL(page.url()).pathname).toBe("/console");
  const cookies = await context.cookies();
  expect(cookies).toHaveLength(1);
  expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/console" });
  // Neither the token nor the cookie is visible to the page's scripts.
  expect(await page.evaluate(() => document.cookie)).toBe("");
  expect(await page.content()).not.toContain(rig.edge().adminToken);
  watched.assertClean();
});

test("on a phone the sign-in form fits the screen", async () => {
  const watched = await rig.open(PHONE);
  const { page } = watched;
  await page.goto("/console/sign-in");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await checkPage(watched, "sign-in-phone");
});

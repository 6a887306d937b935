/**
 * The one-time sign-in link `npm start` prints, and the sign-in form's origin check, in real
 * Chromium over http://127.0.0.1 (what an operator running Tether locally does): the `Secure`
 * session cookie is kept on loopback, and form posts from the console's own page pass although
 * its `Referrer-Policy: no-referrer` makes Chromium send `Origin: null`.
 */
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";

let edge: RunningEdge;
let browser: Browser;

beforeAll(async () => {
  edge = await startEdge();
  browser = await chromium.launch({
    executablePath: process.env.TETHER_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});
afterAll(async () => {
  // Playwright stops the Chromium it launched (its own child) on close.
  await browser?.close();
  await edge?.close();
});

async function mintLink(): Promise<string> {
  const res = await fetch(`${edge.url}/admin/console/sign-in-links`, {
    method: "POST",
    headers: { authorization: `Bearer ${edge.adminToken}` },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

test("one click on the link signs the browser in with a Secure, HttpOnly, SameSite=Strict cookie; a second click is refused", async () => {
  const link = await mintLink();
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(link);
  expect(response?.status()).toBe(200);
  expect(new URL(page.url()).pathname).toBe("/console");
  const cookies = await context.cookies();
  expect(cookies).toHaveLength(1);
  expect(cookies[0]).toMatchObject({
    name: "tether_console",
    path: "/console",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
  });
  expect(await page.evaluate(() => document.cookie)).toBe("");

  const other = await (await browser.newContext()).newPage();
  const again = await other.goto(link);
  expect(again?.status()).toBe(401);
  expect(await other.getByRole("alert").textContent()).toMatch(/unknown, already used or expired/);
  expect(await other.context().cookies()).toEqual([]);
  await context.close();
  await other.context().close();
});

test("the sign-in form works from the console's own page (Origin: null, Sec-Fetch-Site: same-origin)", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const origins: Array<string | null> = [];
  page.on("request", (request) => {
    if (request.method() === "POST") origins.push(request.headers().origin ?? null);
  });
  await page.goto(`${edge.url}/console/anything?x=1`);
  expect(new URL(page.url()).pathname).toBe("/console/sign-in");
  await page.getByLabel("Admin token").fill(edge.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/console/anything");
  expect(origins).toEqual(["null"]);
  expect(await context.cookies()).toHaveLength(1);
  await context.close();
});

/**
 * The console's browser tests share this rig: the real edge in workerd, one Chromium for the
 * file, and pages that are watched for errors. Every page a test opens is closed after it, and the
 * test fails if that page logged a console error, a CSP violation or a failed request.
 */
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import {
  expectAccessible,
  LAPTOP,
  launchBrowser,
  openPage,
  PHONE,
  type RunningBrowser,
  screenshot,
  type WatchedPage,
} from "../helpers/browser.ts";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { stopAll } from "../helpers/processes.ts";

export interface ConsoleRig {
  edge(): RunningEdge;
  browser(): RunningBrowser;
  /** A page in a fresh context (no session yet), at the laptop size unless told. */
  open(viewport?: { width: number; height: number }): Promise<WatchedPage>;
  /** A fresh page, signed in with the admin token. */
  signedIn(viewport?: { width: number; height: number }): Promise<WatchedPage>;
}

/** Starts the edge and Chromium for the calling file and stops both (and any gateway) afterwards. */
export function consoleRig(): ConsoleRig {
  let edge: RunningEdge | undefined;
  let browser: RunningBrowser | undefined;
  const pages: WatchedPage[] = [];
  beforeAll(async () => {
    [edge, browser] = await Promise.all([startEdge(), launchBrowser()]);
  });
  afterEach(async () => {
    const open = pages.splice(0);
    const problems = open.flatMap((watched) => watched.problems());
    await Promise.all(open.map((watched) => watched.close()));
    if (problems.length > 0) throw new Error(`the console reported problems:\n${problems.join("\n")}`);
  });
  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await edge?.close();
  });
  const rig: ConsoleRig = {
    edge() {
      if (!edge) throw new Error("the edge is not running (did startEdge fail?)");
      return edge;
    },
    browser() {
      if (!browser) throw new Error("Chromium is not running (did launchBrowser fail?)");
      return browser;
    },
    async open(viewport = LAPTOP) {
      const watched = await openPage(rig.browser(), { viewport, baseURL: rig.edge().url });
      pages.push(watched);
      return watched;
    },
    async signedIn(viewport = LAPTOP) {
      const watched = await rig.open(viewport);
      await signIn(watched, rig.edge().adminToken);
      return watched;
    },
  };
  return rig;
}

/** Signs in through the form, as an operator would; lands wherever the console sends them. */
export async function signIn(watched: WatchedPage, adminToken: string, path = "/console"): Promise<void> {
  const { page } = watched;
  await page.goto(path);
  expect(new URL(page.url()).pathname, "the console sends a signed-out browser to sign in").toBe("/console/sign-in");
  await page.getByLabel("Admin token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/console/sign-in");
}

/** An axe run, the laptop screenshot, and no problems so far: what every page must pass. */
export async function checkPage(watched: WatchedPage, name: string): Promise<void> {
  await expectAccessible(watched.page);
  await screenshot(watched.page, name);
  watched.assertClean();
}

/** The same page at a phone's size: readable without sideways scrolling, accessible, a screenshot. */
export async function checkPhone(rig: ConsoleRig, path: string, name: string): Promise<void> {
  const watched = await rig.signedIn(PHONE);
  await watched.page.goto(path);
  const overflow = await watched.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${path} scrolls sideways on a phone`).toBeLessThanOrEqual(0);
  await checkPage(watched, `${name}-phone`);
}

/**
 * Real Chromium for the console's browser tests, driven by playwright-core.
 *
 * - `launchBrowser()` starts the Debian `chromium` headless, offline and deterministic (no first
 *   run, no updates, no sync, no background networking). Playwright launches it as a server so
 *   this helper knows its PID: `close()` asks politely, then kills the process and every
 *   descendant it ever saw by PID (renderers, zygotes), so nothing outlives a failed test.
 * - `openPage()` gives a fresh context (its own cookies) with a default timeout, and records every
 *   console error, uncaught page error, CSP violation and failed request: `assertClean()` fails the
 *   test on any of them (a test allows an expected one with `allow`, e.g. a 401 page it asked for).
 * - `screenshot()` writes `test-artifacts/console/NAME.png` (gitignored) for people to look at.
 * - `expectAccessible()` runs axe-core (its `axe.min.js` from node_modules, so offline) inside the
 *   page and fails on serious or critical violations, naming the rules and elements.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, type BrowserContext, type BrowserServer, chromium, type Page } from "playwright-core";
import { descendantsOf } from "../../src/gateway/executor/process/sandbox-launch.ts";
import { ROOT } from "./edge.ts";

export const CHROMIUM = process.env.TETHER_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = join(ROOT, "test-artifacts", "console");

/** Screen sizes the console must read well on. */
export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** How long any single page action or wait may take (a bound against hangs, not a speed check). */
const ACTION_MS = 15_000;

const CHROMIUM_ARGS = [
  "--no-sandbox", // tests run as root
  "--headless=new",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  // Offline and deterministic: nothing phones home or changes under the test.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-domain-reliability",
  "--disable-client-side-phishing-detection",
  "--disable-breakpad",
  "--disable-extensions",
  "--no-first-run",
  "--no-default-browser-check",
  "--no-pings",
  "--metrics-recording-only",
  "--password-store=basic",
  "--mute-audio",
  "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
  // Screenshots look the same run to run.
  "--force-color-profile=srgb",
  "--font-render-hinting=none",
  "--hide-scrollbars",
];

export interface RunningBrowser {
  browser: Browser;
  pid: number;
  /** Closes the browser; kills its process tree by PID if it does not go. Never throws. */
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<RunningBrowser> {
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    // The test process owns the lifecycle (close() below); Ctrl-C still reaches vitest.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const pid = server.process().pid;
  if (pid === undefined) {
    await server.kill();
    throw new Error(`${CHROMIUM} did not start`);
  }
  const seen = new Set<number>(descendantsOf(pid));
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout: ACTION_MS });
  } catch (error) {
    await stopServer(server, pid, seen);
    throw error;
  }
  // Renderers come and go: remember every one, so close() can make sure each has ended.
  const watch = setInterval(() => {
    for (const child of descendantsOf(pid)) seen.add(child);
  }, 500);
  watch.unref();
  // If the test process ends without close() (a crash, an unhandled error), Chromium still goes.
  const onExit = () => killAll([pid, ...seen]);
  process.once("exit", onExit);
  let closed: Promise<void> | undefined;
  return {
    browser,
    pid,
    close() {
      closed ??= (async () => {
        clearInterval(watch);
        process.off("exit", onExit);
        for (const child of descendantsOf(pid)) seen.add(child);
        await bounded(browser.close(), 5_000);
        await stopServer(server, pid, seen);
      })();
      return closed;
    },
  };
}

/** Closes the server (it removes its temporary profile), then kills by PID whatever is left. */
async function stopServer(server: BrowserServer, pid: number, seen: Set<number>): Promise<void> {
  await bounded(server.close(), 5_000);
  if (isRunning(pid)) await bounded(server.kill(), 5_000);
  killAll([pid, ...seen]);
}

/** SIGKILLs each of these PIDs (Chromium's, seen alive) that still runs Chromium (not a reused PID). */
function killAll(pids: number[]): void {
  for (const each of pids) {
    if (!isRunning(each) || !commandLine(each).includes("chromium")) continue;
    try {
      process.kill(each, "SIGKILL");
    } catch {
      // gone in between
    }
  }
}

/**
 * Whether `pid` is a live process. A zombie is not: orphaned Chromium helpers are re-parented to
 * this machine's init, which does not reap them, so they linger as entries that run nothing.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

async function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Everything that went wrong so far: console errors, page errors, CSP violations, failed requests. */
  problems(): string[];
  /** Tolerates problems matching `pattern` from now on (a refusal the test itself provoked). */
  allow(pattern: RegExp): void;
  /** Fails with the list of problems, if any. */
  assertClean(): void;
  close(): Promise<void>;
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  /** Where relative `goto` paths resolve (the edge's URL). */
  baseURL?: string;
}

/** A page in a fresh context (no cookies), watched for errors. */
export async function openPage(running: RunningBrowser, options: PageOptions = {}): Promise<WatchedPage> {
  const context = await running.browser.newContext({
    viewport: options.viewport ?? LAPTOP,
    baseURL: options.baseURL,
    acceptDownloads: true,
    reducedMotion: "reduce",
    locale: "en-GB",
    timezoneId: "UTC",
  });
  context.setDefaultTimeout(ACTION_MS);
  context.setDefaultNavigationTimeout(ACTION_MS);
  // CSP violations also reach the console as errors; the event says which directive, for the report.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
    });
  });
  const page = await context.newPage();
  const found: string[] = [];
  const allowed: RegExp[] = [];
  const record = (problem: string) => {
    if (!allowed.some((pattern) => pattern.test(problem))) found.push(problem);
  };
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const source = message.location().url;
    // The browser asks for /favicon.ico on its own; that request is not the page's doing.
    if (new URL(source || "about:blank").pathname === "/favicon.ico") return;
    record(`console error at ${page.url()} (${source}): ${message.text()}`);
  });
  page.on("pageerror", (error) => record(`page error at ${page.url()}: ${error.message}`));
  page.on("requestfailed", (request) => {
    if (new URL(request.url()).pathname === "/favicon.ico") return;
    const failure = request.failure()?.errorText ?? "failed";
    // Leaving a page aborts what it still had open (the live trace's stream); that is not a fault.
    if (failure === "net::ERR_ABORTED") return;
    record(`request failed: ${request.method()} ${request.url()}: ${failure}`);
  });
  return {
    page,
    context,
    problems: () => [...found],
    allow(pattern) {
      allowed.push(pattern);
    },
    assertClean() {
      if (found.length > 0) throw new Error(`the page reported problems:\n${found.join("\n")}`);
    },
    async close() {
      await bounded(context.close(), 5_000);
    },
  };
}

/** Writes a full-page PNG to test-artifacts/console/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name ${name}: use lowercase kebab-case`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  return path;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Rules switched off, each with its reason. Empty: every WCAG 2.x A/AA and best-practice rule runs.
 * (Keep it that way; a page that fails a rule gets fixed instead.)
 */
export const AXE_DISABLED_RULES: Record<string, string> = {};

/** Runs axe-core in the page and returns the serious and critical violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (no script tag).
  await page.evaluate(AXE_SOURCE);
  const rules = Object.fromEntries(Object.keys(AXE_DISABLED_RULES).map((id) => [id, { enabled: false }]));
  const violations = await page.evaluate(async (rules) => {
    const axe = (window as unknown as { axe: AxeRunner }).axe;
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      rules,
      resultTypes: ["violations"],
    });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(" ")),
    }));
  }, rules);
  return violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
}

/** Fails with each serious/critical axe rule and the elements that break it. */
export async function expectAccessible(page: Page): Promise<void> {
  const violations = await axeViolations(page);
  if (violations.length === 0) return;
  const lines = violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join("\n    ")}`);
  throw new Error(
    `axe found ${violations.length} serious/critical violation(s) at ${page.url()}:\n${lines.join("\n")}`,
  );
}

export interface Focused {
  /** Tag, accessible role hint and text of the focused element, e.g. `a "Tunnels"`. */
  label: string;
  /** Whether focus draws something: an outline or a box shadow. */
  visible: boolean;
}

/** Presses Tab once and describes where focus landed. */
export async function tab(page: Page, key = "Tab"): Promise<Focused> {
  await page.keyboard.press(key);
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return { label: "body", visible: false };
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== "none" && style.boxShadow !== "";
    const name =
      element.getAttribute("aria-label") ??
      (element instanceof HTMLInputElement ? (element.labels?.[0]?.textContent ?? element.name) : element.textContent);
    return {
      label: `${element.tagName.toLowerCase()} "${(name ?? "").trim().replace(/\s+/g, " ")}"`,
      visible: outline || shadow,
    };
  });
}

/** The part of axe-core's API used above (its own types describe the Node entry, not the page global). */
interface AxeRunner {
  run(
    context: Document,
    options: Record<string, unknown>,
  ): Promise<{
    violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }>;
  }>;
}

/**
 * The console's sandbox pages in real Chromium against the edge in workerd: a sandbox made through
 * the API (files, a binary file, tool calls), then browsed as an operator would: the list, the
 * file tree, a text file viewed, files and the tar export downloaded (bytes checked), the tool-call
 * trace, and deleting it.
 */
import { unpackTar } from "modern-tar";
import type { Download, Page } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import { screenshot } from "../helpers/browser.ts";
import { type Created, sandboxApi } from "../helpers/sandbox-api.ts";
import { checkPage, checkPhone, consoleRig } from "./console-helpers.ts";

const rig = consoleRig();
const api = sandboxApi(
  (path, token, init = {}) => {
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(`${rig.edge().url}${path}`, { ...init, headers, signal: AbortSignal.timeout(60_000) });
  },
  () => rig.edge().adminToken,
);

const README = "# Notes\n\nWritten through the API, read in the console.\n";
const APP = "export const answer = 42;\n";
/** Every byte value, so a download that re-encodes anything shows. */
const BINARY = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 256);
const SANDBOX = "console-files";
let sandbox: Created;

beforeAll(async () => {
  sandbox = await api.create({
    id: SANDBOX,
    files: { "notes/readme.md": README, "src/app.js": APP },
    env: { API_KEY: "never-shown-value" },
  });
  const put = await api.call(`/v1/sandboxes/${sandbox.id}/files/workspace/data.bin`, sandbox.token, {
    method: "PUT",
    body: BINARY,
  });
  expect(put.ok).toBe(true);
  const listed = await api.bash(sandbox, "ls /workspace/notes");
  expect(listed.text).toContain("readme.md");
});

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  return { name: download.suggestedFilename(), bytes: await bytesOf(download) };
}

/** The browser's copy of a download (streamed over Playwright's connection: the browser may be remote). */
async function bytesOf(download: Download): Promise<Buffer> {
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

test("the sandboxes list links to the sandbox, whose page shows figures, shell names and the trace", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto("/console/sandboxes");
  await page.getByRole("link", { name: sandbox.id, exact: true }).click();
  await page.waitForURL((url) => url.pathname === `/console/sandboxes/${sandbox.id}`);
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(`Sandbox ${sandbox.id}`);
  // The environment's names, never its values.
  expect(await page.getByTestId("shell-variables").textContent()).toContain("API_KEY");
  expect(await page.content()).not.toContain("never-shown-value");
  const trace = page.locator("table#sandbox-trace tbody tr:not(.empty-row)");
  expect(await trace.filter({ hasText: "bash" }).count()).toBeGreaterThan(0);
  await checkPage(watched, "sandbox");
  await page.goto("/console/sandboxes");
  await checkPage(watched, "sandboxes");
});

test("the file tree browses directories and views a text file", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto(`/console/sandboxes/${sandbox.id}`);
  await page.getByRole("link", { name: "Open directory /workspace/notes" }).click();
  await page.waitForURL((url) => url.searchParams.get("dir") === "/workspace/notes");
  await page.getByRole("link", { name: "View /workspace/notes/readme.md" }).click();
  await expect.poll(() => page.getByTestId("file-content").textContent()).toBe(README);
  await checkPage(watched, "sandbox-file");
  // And back up the tree.
  await page.getByRole("link", { name: "/workspace/notes" }).click();
  await page.getByRole("link", { name: "Up to /workspace" }).click();
  await expect.poll(() => page.getByRole("link", { name: "View /workspace/src/app.js" }).count()).toBe(0);
  expect(await page.getByRole("link", { name: "Open directory /workspace/src" }).count()).toBe(1);
});

test("a text file, a binary file and the tar export download with their exact bytes", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto(`/console/sandboxes/${sandbox.id}/view?path=${encodeURIComponent("/workspace/notes/readme.md")}`);
  const text = await downloaded(page, () => page.getByRole("link", { name: "Download", exact: true }).click());
  expect(text.name).toBe("readme.md");
  expect(text.bytes.toString("utf8")).toBe(README);

  await page.goto(`/console/sandboxes/${sandbox.id}`);
  const binary = await downloaded(page, () => page.getByRole("link", { name: "Download /workspace/data.bin" }).click());
  expect(binary.name).toBe("data.bin");
  expect(new Uint8Array(binary.bytes)).toEqual(BINARY);

  const tar = await downloaded(page, () => page.getByRole("link", { name: "Download the tar export" }).click());
  expect(tar.name).toBe(`${sandbox.id}.tar`);
  const entries = await unpackTar(new Uint8Array(tar.bytes), { strict: true });
  const byName = new Map(entries.map((entry) => [entry.header.name, entry.data]));
  expect(new TextDecoder().decode(byName.get("workspace/notes/readme.md"))).toBe(README);
  expect(new TextDecoder().decode(byName.get("workspace/src/app.js"))).toBe(APP);
  expect(byName.get("workspace/data.bin")).toEqual(BINARY);
  watched.assertClean();
});

test.each([
  ["/console/sandboxes", "sandboxes"],
  [`/console/sandboxes/${SANDBOX}`, "sandbox"],
  [`/console/sandboxes/${SANDBOX}/view?path=%2Fworkspace%2Fnotes%2Freadme.md`, "sandbox-file"],
])("on a phone, %s fits the screen", async (path, name) => {
  await checkPhone(rig, path, name);
});

test("deleting the sandbox asks for its id, then it is gone from the list and the API", async () => {
  const other = await api.create({ id: "console-delete-me", files: { "a.txt": "a" } });
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto(`/console/sandboxes/${other.id}`);
  await page.getByLabel("Type the sandbox id to confirm").fill(other.id);
  await page.getByRole("button", { name: "Delete sandbox" }).click();
  await page.waitForURL((url) => url.pathname === "/console/sandboxes");
  await expect.poll(() => page.getByRole("status").first().textContent()).toMatch(/deleted/i);
  expect(await page.getByRole("link", { name: other.id, exact: true }).count()).toBe(0);
  expect(await page.getByRole("link", { name: sandbox.id, exact: true }).count()).toBe(1);
  await screenshot(page, "sandbox-deleted");
  const gone = await api.call(`/v1/sandboxes/${other.id}`, rig.edge().adminToken);
  expect(gone.status).toBe(404);
});

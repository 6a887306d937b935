/**
 * The console's tunnel pages in real Chromium, against the edge in workerd with a real gateway
 * process relaying to @modelcontextprotocol/server-everything: the tunnel and its live gateway, an
 * MCP call (the official SDK client) appearing in the live trace without a reload, the trace's
 * filters, a token created (its secret shown once, then used by a second real gateway) and revoked
 * (that gateway dropped from the page).
 */
import type { Page } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import { screenshot } from "../helpers/browser.ts";
import { connectMcp, createTunnel, type McpSession, mcpUrl, type TunnelTokens } from "../helpers/mcp-client.ts";
import { freePort, type HttpMcpServer, startEverythingHttp, startGateway } from "../helpers/processes.ts";
import { checkPage, checkPhone, consoleRig } from "./console-helpers.ts";

const rig = consoleRig();
const TUNNEL = "corp";
let tunnel: TunnelTokens;
let everything: HttpMcpServer;

beforeAll(async () => {
  everything = await startEverythingHttp();
  tunnel = await createTunnel(rig.edge(), TUNNEL);
  const downPort = await freePort();
  await startGateway({
    edge: rig.edge().url,
    token: tunnel.gatewayToken,
    // `down` points at a port nothing listens on: its calls fail, which the trace must show.
    servers: [`everything=${everything.url}`, `down=http://127.0.0.1:${downPort}/mcp`],
  });
});

/** Rows of a console table, the "nothing here" row left out. */
function rows(page: Page, table: string) {
  return page.locator(`table#${table} tbody tr:not(.empty-row)`);
}

async function connect(server = "everything"): Promise<McpSession> {
  return connectMcp(mcpUrl(rig.edge(), TUNNEL, server), tunnel.agentToken);
}

test("the tunnels list shows the tunnel with its connected gateway and servers", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto("/console/tunnels");
  const row = rows(page, "tunnels").filter({ has: page.getByRole("link", { name: TUNNEL, exact: true }) });
  await expect.poll(() => row.count()).toBe(1);
  const cells = await row.locator("td").allTextContents();
  expect(cells[0]).toBe("1"); // gateways
  expect(cells[1]).toContain("everything");
  await checkPage(watched, "tunnels");
});

test("a real MCP call shows up in the tunnel's live trace without reloading the page", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto(`/console/tunnels/${TUNNEL}`);
  await expect.poll(() => rows(page, "gateway-list").count()).toBe(1);
  await expect
    .poll(() => rows(page, "server-list").allTextContents())
    .toEqual([expect.stringContaining("everything"), expect.stringContaining("down")]);
  // A mark that a reload or navigation would wipe.
  await page.evaluate(() => Object.assign(window, { tetherStayed: true }));
  const session = await connect();
  try {
    const result = await session.client.callTool({ name: "echo", arguments: { message: "seen live" } });
    expect(result.content).toEqual([{ type: "text", text: "Echo: seen live" }]);
    // Within 2 s of the answer, the row is on the page (the client script polls about once a second).
    const row = rows(page, "trace").filter({ hasText: "echo" }).first();
    await row.waitFor({ state: "visible", timeout: 2_000 });
    expect(await row.textContent()).toContain(session.sessionId ?? "no session id");
    expect(await page.evaluate(() => "tetherStayed" in window)).toBe(true);
    await expect.poll(() => page.locator("#trace-live-status").textContent()).toMatch(/new call/);
  } finally {
    await session.close();
  }
  await checkPage(watched, "tunnel");
});

test("the trace filters by server, tool, status and session", async () => {
  const first = await connect();
  const second = await connect();
  try {
    await first.client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
    await second.client.callTool({ name: "echo", arguments: { message: "second session" } });
    await expect(connect("down")).rejects.toThrow();

    const watched = await rig.signedIn();
    const { page } = watched;
    await page.goto(`/console/tunnels/${TUNNEL}/trace`);
    const filter = async (fields: { server?: string; tool?: string; status?: string; session?: string }) => {
      await page.getByRole("link", { name: "Clear filters" }).click();
      if (fields.server) await page.getByLabel("Server", { exact: true }).fill(fields.server);
      if (fields.tool) await page.getByLabel("Tool", { exact: true }).fill(fields.tool);
      if (fields.status) await page.getByLabel("Status", { exact: true }).selectOption(fields.status);
      if (fields.session) await page.getByLabel("Session", { exact: true }).fill(fields.session);
      await page.getByRole("button", { name: "Filter", exact: true }).click();
      await page.waitForLoadState("load");
      return rows(page, "trace");
    };
    const column = async (name: string) => {
      const index = (await page.locator("table#trace thead th").allTextContents()).indexOf(name);
      return rows(page, "trace")
        .locator(`td:nth-child(${index + 1})`)
        .allTextContents();
    };

    expect(await (await filter({ server: "down" })).count()).toBeGreaterThan(0);
    expect(new Set(await column("Server"))).toEqual(new Set(["down"]));
    expect(new URL(page.url()).searchParams.get("server")).toBe("down");

    expect(await (await filter({ tool: "get-sum" })).count()).toBe(1);
    expect(await column("Session")).toEqual([first.sessionId]);

    await filter({ status: "error" });
    const failedStatuses = await rows(page, "trace").locator(".status-ok").count();
    expect(failedStatuses).toBe(0);
    expect(new Set(await column("Server"))).toEqual(new Set(["down"]));
    await screenshot(page, "trace-filtered");

    await filter({ session: second.sessionId ?? "none" });
    expect(new Set(await column("Session"))).toEqual(new Set([second.sessionId]));
    expect(await column("Tool")).toContain("echo");
    expect(await column("Tool")).not.toContain("get-sum");
    await checkPage(watched, "trace");
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});

test("a new gateway token is shown once; a gateway uses it; revoking it drops that gateway", async () => {
  const watched = await rig.signedIn();
  const { page } = watched;
  await page.goto(`/console/tunnels/${TUNNEL}`);
  await page.getByLabel("Role", { exact: true }).selectOption("gateway");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = (await page.getByTestId("secret").textContent())?.trim() ?? "";
  expect(secret.length).toBeGreaterThan(20);
  const id = /token (\S+)/.exec((await page.locator(".secret strong").textContent()) ?? "")?.[1] ?? "";
  expect(id).not.toBe("");
  await checkPage(watched, "token-created");

  // Back on the tunnel page, and after a reload: the token is listed, its secret is nowhere.
  await page.getByRole("link", { name: `Back to tunnel ${TUNNEL}` }).click();
  await page.reload();
  await expect.poll(() => rows(page, "token-list").filter({ hasText: id }).count()).toBe(1);
  expect(await page.content()).not.toContain(secret);

  const second = await startGateway({ edge: rig.edge().url, token: secret, servers: [`everything=${everything.url}`] });
  try {
    await page.reload();
    await expect.poll(() => rows(page, "gateway-list").filter({ hasText: id }).count()).toBe(1);
    expect(await rows(page, "gateway-list").count()).toBe(2);

    await page.getByRole("button", { name: `Revoke token ${id}` }).click();
    await page.waitForURL((url) => url.pathname === `/console/tunnels/${TUNNEL}`);
    await expect.poll(() => page.getByRole("status").first().textContent()).toMatch(/revoked/i);
    expect(await rows(page, "gateway-list").filter({ hasText: id }).count()).toBe(0);
    expect(await rows(page, "gateway-list").count()).toBe(1);
    expect(await rows(page, "token-list").filter({ hasText: id }).textContent()).toMatch(/revoked/);
    await screenshot(page, "token-revoked");
  } finally {
    await second.stop();
  }
});

test("the sessions page and an unknown tunnel's page are accessible too", async () => {
  const session = await connect();
  try {
    const watched = await rig.signedIn();
    const { page } = watched;
    await page.goto(`/console/tunnels/${TUNNEL}/sessions`);
    await expect
      .poll(() =>
        rows(page, "sessions")
          .filter({ hasText: session.sessionId ?? "none" })
          .count(),
      )
      .toBe(1);
    await checkPage(watched, "sessions");

    // The 404 is asked for here, and Chromium reports it in the console.
    watched.allow(/status of 404/);
    const response = await page.goto("/console/tunnels/no-such-tunnel");
    expect(response?.status()).toBe(404);
    await checkPage(watched, "tunnel-not-found");
  } finally {
    await session.close();
  }
});

const PHONE_PAGES: Array<[string, string]> = [
  ["/console/tunnels", "tunnels"],
  [`/console/tunnels/${TUNNEL}`, "tunnel"],
  [`/console/tunnels/${TUNNEL}/trace`, "trace"],
  [`/console/tunnels/${TUNNEL}/sessions`, "sessions"],
];

test.each(PHONE_PAGES)("on a phone, %s fits the screen", async (path, name) => {
  await checkPhone(rig, path, name);
});

/**
 * `tether inspect` as operators run it (a real process) against the real edge in workerd, with a
 * real gateway in front of the HTTP server-everything, MCP calls through it, an edge sandbox and an
 * API token: aligned tables by default, the admin API's JSON with --json, no secret in either, and
 * clear failures for bad command lines and unknown names.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, type RunningEdge, startEdge } from "../helpers/edge.ts";
import { connectMcp, createTunnel, type McpSession, mcpUrl, type TunnelTokens } from "../helpers/mcp-client.ts";
import {
  type HttpMcpServer,
  NODE,
  type RunningProcess,
  spawnProcess,
  startEverythingHttp,
  startGateway,
  stopAll,
} from "../helpers/processes.ts";
import { sandboxApi, withBearer } from "../helpers/sandbox-api.ts";
import { within } from "../helpers/stdio-fixtures.ts";

const MAIN = `${ROOT}src/cli/main.ts`;

let edge: RunningEdge;
let everything: HttpMcpServer;
let gateway: RunningProcess;
let session: McpSession;
let tunnel: TunnelTokens;
let sandboxId: string;
let sandboxToken: string;
let apiToken: { id: string; token: string };

beforeAll(async () => {
  [edge, everything] = await Promise.all([startEdge(), startEverythingHttp()]);
  tunnel = await createTunnel(edge, "ops");
  gateway = await startGateway({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [`everything=${everything.url}`],
  });
  session = await connectMcp(mcpUrl(edge, "ops", "everything"), tunnel.agentToken);
  for (const message of ["one", "two", "three"]) {
    await session.client.callTool({ name: "echo", arguments: { message } });
  }
  const api = sandboxApi(
    (path, token, init = {}) => fetch(`${edge.url}${path}`, { ...init, headers: withBearer(init, token) }),
    () => edge.adminToken,
  );
  const sandbox = await api.create({ env: { SECRET_VALUE: "do-not-print-me" } });
  [sandboxId, sandboxToken] = [sandbox.id, sandbox.token];
  await api.bash(sandbox, "export GREETING=hello-there && echo hi");
  const res = await fetch(`${edge.url}/admin/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ label: "orchestrator-a" }),
  });
  apiToken = (await res.json()) as { id: string; token: string };
}, 120_000);

afterAll(async () => {
  await session?.close();
  await gateway?.stop();
  await stopAll();
  await edge?.close();
});

async function tether(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = spawnProcess("tether", NODE, [MAIN, "inspect", ...args], {
    env: { TETHER_EDGE: edge.url, TETHER_ADMIN_TOKEN: edge.adminToken, ...env },
  });
  const exit = await within(proc.exited, 30_000, `tether inspect ${args.join(" ")}`);
  return { code: exit.code, output: proc.output() };
}

/** The lines of the table under `title` (header first), up to the next blank line. */
function table(output: string, title: string): string[] {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => line.startsWith(title));
  expect(start, `no section "${title}" in:\n${output}`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.trim() === "");
  return end === -1 ? rest : rest.slice(0, end);
}

/** Cells of a row by the header's column names (cells and names never hold two spaces in a row). */
function cells(header: string, row: string): Record<string, string> {
  const values = row.trim().split(/\s{2,}/);
  return Object.fromEntries(header.split(/\s{2,}/).map((name, index) => [name, values[index] ?? ""]));
}

function secretsIn(output: string): string[] {
  return [
    tunnel.gatewayToken,
    tunnel.agentToken,
    sandboxToken,
    apiToken.token,
    "do-not-print-me",
    "hello-there",
  ].filter((secret) => output.includes(secret));
}

describe("tether inspect (tables)", () => {
  test("overview: the tunnel up with its gateway, calls/min, error rate and latency; the sandbox", async () => {
    const { code, output } = await tether([]);
    expect(code, output).toBe(0);
    const tunnels = table(output, "Tunnels");
    const [header = "", ...rows] = tunnels;
    expect(header.split(/\s{2,}/)).toEqual([
      "NAME",
      "STATUS",
      "GATEWAYS",
      "SESSIONS",
      "CALLS/MIN",
      "ERRORS",
      "P50",
      "P99",
      "SERVERS",
    ]);
    const ops = rows.find((row) => row.startsWith("ops "));
    expect(ops, output).toBeDefined();
    const row = cells(header, ops ?? "");
    expect(row).toMatchObject({ NAME: "ops", STATUS: "up", GATEWAYS: "1", SESSIONS: "1", SERVERS: "everything" });
    // initialize, notifications/initialized, tools/call x3 (and maybe a GET stream) within 5 minutes.
    expect(Number(row["CALLS/MIN"])).toBeGreaterThanOrEqual(1);
    expect(row.ERRORS).toMatch(/^\d+\.\d%$/);
    expect(row.P50).toMatch(/^\d[\d,]* ms$/);
    const sandboxes = table(output, "Sandboxes");
    expect(sandboxes.some((line) => line.startsWith(`${sandboxId} `) && line.includes("edge"))).toBe(true);
    expect(secretsIn(output)).toEqual([]);
  });

  test("tunnel NAME: gateways, servers, tokens (ids only), the session, recent calls and per-tool metrics", async () => {
    const { code, output } = await tether(["tunnel", "ops"]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Tunnel ops \(created /);
    expect(output).toContain("Audit trail: kept 30 days, at most 100,000 rows; payloads not stored");
    expect(table(output, "Gateways")).toHaveLength(2);
    const servers = table(output, "Servers");
    expect(servers[1]).toMatch(/^everything\s+http\s+/);
    const tokens = table(output, "Tokens");
    expect(tokens.slice(1).map((line) => line.split(/\s+/).slice(0, 2))).toEqual(
      expect.arrayContaining([
        [tunnel.gatewayTokenId, "gateway"],
        [tunnel.agentTokenId, "agent"],
      ]),
    );
    const sessions = table(output, "Sessions");
    expect(sessions[1]).toContain(session.sessionId ?? "no session id");
    expect(table(output, "Recent calls").filter((line) => / tools\/call +echo +200 /.test(line))).toHaveLength(3);
    const tools = table(output, "Metrics per tool");
    const [header = "", ...rows] = tools;
    const fiveMinutes = rows.map((line) => cells(header, line)).find((row) => row.WINDOW === "5m");
    expect(fiveMinutes).toMatchObject({ TUNNEL: "ops", SERVER: "everything", TOOL: "echo", CALLS: "3" });
    expect(secretsIn(output)).toEqual([]);
  });

  test("sandboxes, sandbox ID (shell variable names only) and tokens", async () => {
    const sandboxes = await tether(["sandboxes"]);
    expect(sandboxes.code, sandboxes.output).toBe(0);
    expect(table(sandboxes.output, "Sandboxes").some((line) => line.startsWith(sandboxId))).toBe(true);

    const one = await tether(["sandbox", sandboxId]);
    expect(one.code, one.output).toBe(0);
    expect(one.output).toContain(`Sandbox ${sandboxId} (edge;`);
    expect(one.output).toMatch(/variables: .*GREETING/);
    expect(table(one.output, "Recent tool calls").some((line) => / bash /.test(line))).toBe(true);
    const perTool = table(one.output, "Metrics per sandbox tool");
    expect(perTool.some((line) => line.startsWith(`${sandboxId}  bash`) && / 5m /.test(line))).toBe(true);

    const tokens = await tether(["tokens"]);
    expect(tokens.code, tokens.output).toBe(0);
    expect(table(tokens.output, "API tokens").some((line) => line.startsWith(`${apiToken.id}  orchestrator-a`))).toBe(
      true,
    );
    expect(secretsIn(sandboxes.output + one.output + tokens.output)).toEqual([]);
  });

  test("metrics: tunnels, servers, tools and sandboxes over both windows; --tunnel narrows", async () => {
    const { code, output } = await tether(["metrics"]);
    expect(code, output).toBe(0);
    for (const title of ["Metrics per tunnel", "Metrics per server", "Metrics per tool", "Metrics per sandbox"]) {
      expect(table(output, title).length, title).toBeGreaterThan(1);
    }
    const narrowed = await tether(["metrics", "--tunnel", "ops"]);
    expect(table(narrowed.output, "Metrics per sandbox").slice(1)).toEqual(["(none)"]);
  });
});

describe("tether inspect --json", () => {
  test("prints what the admin API answered, metrics included", async () => {
    const tunnelView = await tether(["tunnel", "ops", "--json"]);
    expect(tunnelView.code, tunnelView.output).toBe(0);
    const parsed = JSON.parse(tunnelView.output) as {
      tunnel: { name: string; tokens: Array<{ id: string }> };
      metrics: { tunnel: string; tools: Array<{ tool: string; windows: { "5m": { calls: number } } }> };
    };
    expect(parsed.tunnel.name).toBe("ops");
    expect(parsed.metrics.tools.find((t) => t.tool === "echo")?.windows["5m"].calls).toBe(3);

    const metrics = await tether(["metrics", "--json", "--sandbox", sandboxId]);
    expect(JSON.parse(metrics.output)).toMatchObject({
      tunnels: [],
      sandboxes: [{ sandbox: sandboxId, tools: [{ tool: "bash" }] }],
    });
    expect(secretsIn(tunnelView.output + metrics.output)).toEqual([]);
  });
});

describe("tether inspect refusals", () => {
  test("usage errors exit 2 naming the problem; the edge's refusals exit 1 with its message", async () => {
    const unknownView = await tether(["tunnels-please"]);
    expect([unknownView.code, unknownView.output]).toEqual([
      2,
      expect.stringContaining('unknown view "tunnels-please"'),
    ]);
    const noName = await tether(["tunnel"]);
    expect([noName.code, noName.output]).toEqual([2, expect.stringContaining("needs a tunnel NAME")]);
    const noToken = await tether([], { TETHER_ADMIN_TOKEN: "" });
    expect([noToken.code, noToken.output]).toEqual([2, expect.stringContaining("--admin-token is required")]);
    const misplaced = await tether(["tokens", "--tunnel", "ops"]);
    expect(misplaced.code).toBe(2);

    const missing = await tether(["tunnel", "no-such-tunnel"]);
    expect([missing.code, missing.output]).toEqual([1, expect.stringMatching(/404 .*no such tunnel/)]);
    const wrongToken = await tether(["tokens"], { TETHER_ADMIN_TOKEN: "not-the-admin-token" });
    expect([wrongToken.code, wrongToken.output]).toEqual([1, expect.stringContaining("401")]);
  });
});

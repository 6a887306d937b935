/**
 * stdio MCP servers behind a real gateway process: server-everything and server-filesystem run as
 * the gateway's children (one per MCP session), reached through the edge with the SDK client.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { connectMcp, createTunnel, type McpSession, mcpUrl, type TunnelTokens } from "../helpers/mcp-client.ts";
import {
  EVERYTHING_STDIO,
  FILESYSTEM,
  NODE,
  type RunningProcess,
  startGateway,
  stopAll,
} from "../helpers/processes.ts";

let edge: RunningEdge;
let tunnel: TunnelTokens;
let gateway: RunningProcess;
let dir: string;
const sessions: McpSession[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tether-fs-"));
  writeFileSync(join(dir, "notes.txt"), "kept inside the network\n");
  edge = await startEdge();
  tunnel = await createTunnel(edge, "stdio");
  gateway = await startGateway({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [`everything=${EVERYTHING_STDIO}`, `files=stdio:${NODE} ${FILESYSTEM} ${dir}`],
  });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await stopAll();
  await edge?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function connect(server: string): Promise<McpSession> {
  const session = await connectMcp(mcpUrl(edge, "stdio", server), tunnel.agentToken);
  sessions.push(session);
  return session;
}

test("server-everything over stdio: tools, resources, prompts and progress", async () => {
  const { client } = await connect("everything");
  expect(client.getServerVersion()?.name).toBe("mcp-servers/everything");
  const echoed = await client.callTool({ name: "echo", arguments: { message: "via stdio" } });
  expect(echoed.content).toEqual([{ type: "text", text: "Echo: via stdio" }]);
  expect((await client.listResources()).resources.length).toBeGreaterThan(0);
  expect((await client.listPrompts()).prompts.length).toBeGreaterThan(0);
  const order: string[] = [];
  await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.4, steps: 2 } }, undefined, {
    onprogress: (progress) => order.push(`progress ${progress.progress}`),
  });
  order.push("result");
  expect(order).toEqual(["progress 1", "progress 2", "result"]);
});

test("server-filesystem over stdio reads the gateway's files", async () => {
  const { client } = await connect("files");
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(["read_text_file", "list_directory"]));
  const listing = await client.callTool({ name: "list_directory", arguments: { path: dir } });
  expect(JSON.stringify(listing.content)).toContain("notes.txt");
  const read = await client.callTool({ name: "read_text_file", arguments: { path: join(dir, "notes.txt") } });
  expect(JSON.stringify(read.content)).toContain("kept inside the network");
});

test("each MCP session gets its own child; sessions stay apart", async () => {
  const [a, b] = await Promise.all([connect("everything"), connect("everything")]);
  expect(a.sessionId).not.toBe(b.sessionId);
  const [ra, rb] = await Promise.all([
    a.client.callTool({ name: "echo", arguments: { message: "a" } }),
    b.client.callTool({ name: "echo", arguments: { message: "b" } }),
  ]);
  expect([ra.content, rb.content]).toEqual([[{ type: "text", text: "Echo: a" }], [{ type: "text", text: "Echo: b" }]]);
  expect(gateway.output()).not.toMatch(/upstream_failed/);
});

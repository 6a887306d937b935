/**
 * stdio MCP servers behind a real gateway process: server-everything and server-filesystem run as
 * the gateway's children (one per MCP session), reached through the edge with the SDK client.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import {
  type ConnectOptions,
  connectMcp,
  createTunnel,
  type McpSession,
  mcpUrl,
  type TunnelTokens,
} from "../helpers/mcp-client.ts";
import {
  EVERYTHING_STDIO,
  FILESYSTEM,
  NODE,
  type RunningProcess,
  startGateway,
  stopAll,
} from "../helpers/processes.ts";
import { progressOf, responsesTo, sseCutter } from "../helpers/sse-cut.ts";
import { within } from "../helpers/stdio-fixtures.ts";

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

async function connect(server: string, options: ConnectOptions = {}): Promise<McpSession> {
  const session = await connectMcp(mcpUrl(edge, "stdio", server), tunnel.agentToken, options);
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

test("a call whose SSE stream is cut after its first progress event resumes with Last-Event-ID: nothing lost, nothing twice", async () => {
  const isProgress = (message: { method?: string }) => message.method === "notifications/progress";
  const cutter = sseCutter((message) => "method" in message && isProgress(message));
  const { client } = await connect("everything", { fetch: cutter.fetch });
  const seen: number[] = [];
  const result = await within(
    client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 1.5, steps: 5 } }, undefined, {
      onprogress: (progress) => seen.push(progress.progress),
    }),
    30_000,
    "the resumed call",
  );
  expect(JSON.stringify(result.content)).toContain("Long running operation completed");
  // One cut, one resume through the edge, and every event exactly once.
  expect(cutter.cuts).toBe(1);
  expect(cutter.resumes).toHaveLength(1);
  expect(seen).toEqual([1, 2, 3, 4, 5]);
  const first = cutter.delivered.find((entry) => "method" in entry.message && isProgress(entry.message));
  const token = first && "params" in first.message ? first.message.params?.progressToken : undefined;
  expect(typeof token).toBe("number");
  expect(progressOf(cutter.delivered, token as number)).toEqual([1, 2, 3, 4, 5]);
  expect(responsesTo(cutter.delivered, token as number)).toHaveLength(1);
  // The session carries on.
  expect((await client.callTool({ name: "echo", arguments: { message: "after" } })).content).toEqual([
    { type: "text", text: "Echo: after" },
  ]);
});

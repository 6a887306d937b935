/**
 * A real gateway process relays the official MCP SDK client, through the edge in workerd, to
 * @modelcontextprotocol/server-everything running as a Streamable HTTP server.
 */
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import {
  answerSampling,
  connectMcp,
  createTunnel,
  type McpSession,
  mcpUrl,
  postJsonRpc,
  type TunnelTokens,
} from "../helpers/mcp-client.ts";
import {
  freePort,
  type HttpMcpServer,
  type RunningProcess,
  startEverythingHttp,
  startGateway,
  stopAll,
} from "../helpers/processes.ts";
import { within } from "../helpers/stdio-fixtures.ts";

let edge: RunningEdge;
let everything: HttpMcpServer;
let tunnel: TunnelTokens;
let gateway: RunningProcess;
let url: string;
const sessions: McpSession[] = [];

beforeAll(async () => {
  [edge, everything] = await Promise.all([startEdge(), startEverythingHttp()]);
  tunnel = await createTunnel(edge, "corp");
  const downPort = await freePort();
  gateway = await startGateway({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [`everything=${everything.url}`, `down=http://127.0.0.1:${downPort}/mcp`],
  });
  url = mcpUrl(edge, "corp", "everything");
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await stopAll();
  await edge?.close();
});

async function connect(options: Parameters<typeof connectMcp>[2] = {}): Promise<McpSession> {
  const session = await connectMcp(url, tunnel.agentToken, options);
  sessions.push(session);
  return session;
}

test("initialize, then tools, resources and prompts", async () => {
  const { client, sessionId } = await connect();
  expect(sessionId).toMatch(/.+/);
  expect(client.getServerVersion()?.name).toBe("mcp-servers/everything");

  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name)).toEqual(
    expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation"]),
  );
  const echoed = await client.callTool({ name: "echo", arguments: { message: "through the tunnel" } });
  expect(echoed.content).toEqual([{ type: "text", text: "Echo: through the tunnel" }]);
  const sum = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } });
  expect(JSON.stringify(sum.content)).toContain("42");

  const { resources } = await client.listResources();
  expect(resources.length).toBeGreaterThan(0);
  const first = resources[0];
  if (!first) throw new Error("no resources listed");
  const read = await client.readResource({ uri: first.uri });
  expect(read.contents[0]?.uri).toBe(first.uri);

  const { prompts } = await client.listPrompts();
  const simple = prompts.find((prompt) => !prompt.arguments?.some((argument) => argument.required));
  if (!simple) throw new Error("no prompt without required arguments");
  const prompt = await client.getPrompt({ name: simple.name });
  expect(prompt.messages.length).toBeGreaterThan(0);
});

test("progress notifications stream back before the result", async () => {
  const { client } = await connect();
  const order: string[] = [];
  const progress: Progress[] = [];
  const result = await client.callTool(
    { name: "trigger-long-running-operation", arguments: { duration: 1, steps: 4 } },
    undefined,
    {
      onprogress: (update) => {
        progress.push(update);
        order.push(`progress ${update.progress}`);
      },
    },
  );
  order.push("result");
  expect(JSON.stringify(result.content)).toContain("Long running operation completed");
  expect(progress.map((update) => [update.progress, update.total])).toEqual([
    [1, 4],
    [2, 4],
    [3, 4],
    [4, 4],
  ]);
  expect(order).toEqual(["progress 1", "progress 2", "progress 3", "progress 4", "result"]);
});

test("a server-to-client sampling request is answered by the client", async () => {
  const sampling = answerSampling("sampled through Tether");
  const { client } = await connect(sampling);
  const result = await client.callTool({
    name: "trigger-sampling-request",
    arguments: { prompt: "hello", maxTokens: 5 },
  });
  expect(sampling.prompts).toHaveLength(1);
  expect(sampling.prompts[0]).toContain("hello");
  expect(JSON.stringify(result.content)).toContain("sampled through Tether");
});

test("cancelling a call ends it promptly and the session keeps working", async () => {
  const { client } = await connect();
  const abort = new AbortController();
  let progressed = false;
  const call = client.callTool(
    { name: "trigger-long-running-operation", arguments: { duration: 30, steps: 30 } },
    undefined,
    {
      signal: abort.signal,
      onprogress: () => {
        progressed = true;
        abort.abort("the agent changed its mind");
      },
    },
  );
  await expect(within(call, 15_000, "the cancelled call")).rejects.toThrow(/changed its mind|abort/i);
  expect(progressed).toBe(true);
  const echoed = await client.callTool({ name: "echo", arguments: { message: "still here" } });
  expect(echoed.content).toEqual([{ type: "text", text: "Echo: still here" }]);
});

test("two concurrent sessions stay apart", async () => {
  const [a, b] = await Promise.all([connect(), connect()]);
  expect(a.sessionId).not.toBe(b.sessionId);
  const calls = Array.from({ length: 6 }, (_, i) =>
    (i % 2 === 0 ? a : b).client.callTool({ name: "echo", arguments: { message: `call ${i}` } }),
  );
  const results = await Promise.all(calls);
  expect(results.map((result) => result.content)).toEqual(
    Array.from({ length: 6 }, (_, i) => [{ type: "text", text: `Echo: call ${i}` }]),
  );
});

test("the token may come in X-Tether-Token, leaving Authorization to the upstream", async () => {
  const { client } = await connect({ tetherHeader: true });
  const echoed = await client.callTool({ name: "echo", arguments: { message: "other header" } });
  expect(echoed.content).toEqual([{ type: "text", text: "Echo: other header" }]);
});

test("an upstream HTTP server that is down: 502 naming the server", async () => {
  const response = await postJsonRpc(mcpUrl(edge, "corp", "down"), tunnel.agentToken, "initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "t", version: "1" },
  });
  expect(response.status).toBe(502);
  const body = (await response.json()) as { error: { message: string } };
  expect(body.error.message).toContain('"down"');
  expect(body.error.message).toContain("ECONNREFUSED");
  // The gateway stays up and keeps serving the other server.
  expect(gateway.output()).toMatch(/upstream_failed .*server=down/);
  const { client } = await connect();
  expect((await client.listTools()).tools.length).toBeGreaterThan(0);
});

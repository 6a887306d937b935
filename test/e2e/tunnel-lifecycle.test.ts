/**
 * Gateways coming and going while agents use them: restart, a kill in the middle of a call (the
 * official SDK client's call must fail, not hang), an orderly SIGTERM that drains and leaves no
 * child behind, and tunnels that never see each other.
 */
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { connectMcp, createTunnel, type McpSession, mcpUrl, postJsonRpc, revokeToken } from "../helpers/mcp-client.ts";
import {
  descendants,
  EVERYTHING_STDIO,
  type GatewayProcessOptions,
  type HttpMcpServer,
  isAlive,
  type RunningProcess,
  startEverythingHttp,
  startGateway,
  stopAll,
} from "../helpers/processes.ts";
import { until, within } from "../helpers/stdio-fixtures.ts";

let edge: RunningEdge;
let everything: HttpMcpServer;
const sessions: McpSession[] = [];
/** Gateways a test started, stopped by PID after it (the shared upstream stays up). */
const gateways: RunningProcess[] = [];

beforeAll(async () => {
  [edge, everything] = await Promise.all([startEdge(), startEverythingHttp()]);
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
  await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
});

afterAll(async () => {
  await stopAll();
  await edge?.close();
});

async function gatewayFor(options: GatewayProcessOptions): Promise<RunningProcess> {
  const gateway = await startGateway(options);
  gateways.push(gateway);
  return gateway;
}

async function connect(url: string, token: string): Promise<McpSession> {
  const session = await connectMcp(url, token);
  sessions.push(session);
  return session;
}

const echo = (session: McpSession, message: string) =>
  session.client.callTool({ name: "echo", arguments: { message } });

/** A tunnel with one gateway in front of the HTTP server-everything, and an SDK session through it. */
async function servedTunnel(name: string) {
  const tunnel = await createTunnel(edge, name);
  const options = { edge: edge.url, token: tunnel.gatewayToken, servers: [`everything=${everything.url}`] };
  const gateway = await gatewayFor(options);
  const url = mcpUrl(edge, name, "everything");
  const session = await connect(url, tunnel.agentToken);
  return { tunnel, options, gateway, url, session };
}

test("gateway restart: the old session answers 404, the client re-initializes and carries on", async () => {
  const { tunnel, options, gateway: first, url, session: before } = await servedTunnel("restart");
  expect((await echo(before, "before")).content).toEqual([{ type: "text", text: "Echo: before" }]);

  expect((await first.stop("SIGKILL")).signal).toBe("SIGKILL");
  await gatewayFor(options);

  const failure = await echo(before, "stale").catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(StreamableHTTPError);
  expect((failure as StreamableHTTPError).code).toBe(404);

  const after = await connect(url, tunnel.agentToken);
  expect(after.sessionId).not.toBe(before.sessionId);
  expect((await echo(after, "after")).content).toEqual([{ type: "text", text: "Echo: after" }]);
});

test("a gateway killed mid-call: the SDK client's call fails naming the loss; 503 until a gateway is back", async () => {
  const { tunnel, options, gateway, url, session } = await servedTunnel("killed");
  let started: () => void = () => {};
  const underWay = new Promise<void>((resolve) => {
    started = resolve;
  });
  const call = session.client
    .callTool({ name: "trigger-long-running-operation", arguments: { duration: 60, steps: 60 } }, undefined, {
      onprogress: () => started(),
    })
    .then(
      () => "completed",
      (error: unknown) => error,
    );
  await within(underWay, 15_000, "the call to be under way");
  expect((await gateway.stop("SIGKILL")).signal).toBe("SIGKILL");

  // Bounded, not timed: left unanswered, the client would wait for its own 60 s request timeout.
  const failure = await within(call, 10_000, "the pending call to fail");
  expect(failure).toBeInstanceOf(McpError);
  expect((failure as McpError).code).toBe(-32012);
  expect((failure as McpError).message).toMatch(/MCP server "everything" failed: the gateway disconnected/);

  // The session went with its gateway (404: re-initialize); a fresh client is told no gateway is there.
  const stale = await echo(session, "after").catch((error: unknown) => error);
  expect((stale as StreamableHTTPError).code).toBe(404);
  const refused = await connectMcp(url, tunnel.agentToken).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(StreamableHTTPError);
  expect((refused as StreamableHTTPError).code).toBe(503);
  expect((refused as Error).message).toContain("no gateway is connected to this tunnel");

  // Once a gateway is back, a new session works.
  await gatewayFor(options);
  const fresh = await connect(url, tunnel.agentToken);
  expect((await echo(fresh, "back")).content).toEqual([{ type: "text", text: "Echo: back" }]);
});

test("SIGTERM drains the call in flight, stops every stdio child and exits 0", async () => {
  const tunnel = await createTunnel(edge, "drain");
  const gateway = await gatewayFor({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [`everything=${EVERYTHING_STDIO}`],
    // Longer than the wait below: an exit in time means the drain ended on its own.
    args: ["--drain-timeout-ms", "60000"],
  });
  const session = await connect(mcpUrl(edge, "drain", "everything"), tunnel.agentToken);
  const children = descendants(gateway.pid);
  expect(children.length).toBeGreaterThan(0);

  let started: () => void = () => {};
  const progressed = new Promise<void>((resolve) => {
    started = resolve;
  });
  const call = session.client.callTool(
    { name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } },
    undefined,
    { onprogress: () => started() },
  );
  await within(progressed, 15_000, "the call to be under way");
  const exit = await gateway.stop("SIGTERM", 30_000);
  expect(exit).toEqual({ code: 0, signal: null });
  const result = await within(call, 5_000, "the drained call");
  expect(JSON.stringify(result.content)).toContain("Long running operation completed");
  await until(() => children.every((pid) => !isAlive(pid)), 5_000, "every child of the gateway to be gone");
  expect(gateway.output()).toMatch(/ draining .*inFlight=/);
  expect(gateway.output()).toMatch(/ stopped /);
});

test("two tunnels are isolated: each sees only its own gateway's servers and tokens", async () => {
  const [alpha, beta] = await Promise.all([createTunnel(edge, "alpha"), createTunnel(edge, "beta")]);
  await Promise.all([
    gatewayFor({ edge: edge.url, token: alpha.gatewayToken, servers: [`only-alpha=${everything.url}`] }),
    gatewayFor({ edge: edge.url, token: beta.gatewayToken, servers: [`only-beta=${everything.url}`] }),
  ]);
  const a = await connect(mcpUrl(edge, "alpha", "only-alpha"), alpha.agentToken);
  const b = await connect(mcpUrl(edge, "beta", "only-beta"), beta.agentToken);
  expect((await echo(a, "a")).content).toEqual([{ type: "text", text: "Echo: a" }]);
  expect((await echo(b, "b")).content).toEqual([{ type: "text", text: "Echo: b" }]);

  const listTools = (url: string, token: string, headers: Record<string, string> = {}) =>
    postJsonRpc(url, token, "tools/list", {}, headers);
  // Another tunnel's server, another tunnel's token, another tunnel's session: all unknown here.
  expect((await listTools(mcpUrl(edge, "alpha", "only-beta"), alpha.agentToken)).status).toBe(404);
  expect((await listTools(mcpUrl(edge, "beta", "only-beta"), alpha.agentToken)).status).toBe(404);
  const stolen = { "mcp-session-id": a.sessionId ?? "" };
  expect((await listTools(mcpUrl(edge, "beta", "only-beta"), beta.agentToken, stolen)).status).toBe(404);
});

test("a revoked gateway token: the edge closes the gateway (4401), which keeps retrying and logs an auth problem", async () => {
  const tunnel = await createTunnel(edge, "revoked");
  const gateway = await gatewayFor({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [`everything=${everything.url}`],
  });
  await revokeToken(edge, "revoked", tunnel.gatewayTokenId);
  await gateway.waitFor(/ disconnected code=4401 /);
  const refusal = await gateway.waitFor(/ auth_rejected status=401 /);
  expect(refusal).toContain("check --token");
  expect(gateway.child.exitCode).toBeNull();
  // Agents are told no gateway is there, at once.
  const response = await postJsonRpc(mcpUrl(edge, "revoked", "everything"), tunnel.agentToken, "tools/list");
  expect(response.status).toBe(503);
});

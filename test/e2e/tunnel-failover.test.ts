/**
 * Two gateways on one tunnel, four clients opening new MCP sessions continuously, and one gateway
 * SIGKILLed by its PID (test/helpers/failover-drill.ts): what was in flight on it fails at once
 * with the JSON-RPC error that names the loss, and every session opened after the edge dropped it
 * works on the survivor. Bounded by counts; the one time bound is a generous guard against a hang.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { connectedGateways, runFailoverDrill } from "../helpers/failover-drill.ts";
import { createTunnel } from "../helpers/mcp-client.ts";
import { type HttpMcpServer, startEverythingHttp, startGateway, stopAll } from "../helpers/processes.ts";

let edge: RunningEdge;
let everything: HttpMcpServer;

beforeAll(async () => {
  [edge, everything] = await Promise.all([startEdge(), startEverythingHttp()]);
});

afterAll(async () => {
  await stopAll();
  await edge?.close();
});

/** What a client may see for a call caught by the kill: the loss, named (never a hang or another error). */
const NAMES_THE_LOSS =
  /failed: the gateway disconnected|the MCP session's gateway is gone|the gateway's connection is closed/;

test("a gateway SIGKILLed under load: its calls fail naming the loss, every later session works on the survivor", async () => {
  const tunnel = await createTunnel(edge, "failover");
  const gateway = (servers: string[]) => startGateway({ edge: edge.url, token: tunnel.gatewayToken, servers });
  const [doomed, survivor] = await Promise.all([
    gateway([`everything=${everything.url}`, `pinned=${everything.url}`]),
    gateway([`everything=${everything.url}`]),
  ]);
  expect(await connectedGateways(edge, "failover")).toHaveLength(2);

  const drill = await runFailoverDrill({
    edge,
    tunnel: "failover",
    agentToken: tunnel.agentToken,
    server: "everything",
    pinnedServer: "pinned",
    doomed,
    clients: 4,
    before: 24,
    after: 5,
  });

  expect(doomed.child.signalCode).toBe("SIGKILL");
  // The call known to be in flight on the dead gateway ended with the loss, long before the
  // 120 s it would have run and the client's own timeout (generous bound: a hang, not speed).
  expect(drill.witness.code).toBe(-32012);
  expect(drill.witness.message).toMatch(/MCP server "pinned" failed: the gateway disconnected/);
  expect(drill.witness.settledAfterMs).toBeLessThan(30_000);

  // Every session opened after the edge dropped the dead gateway worked.
  const after = drill.iterations.filter((iteration) => iteration.phase === "after");
  expect(after).toHaveLength(4 * 5);
  expect(after.filter((iteration) => iteration.error !== undefined)).toEqual([]);
  // Whatever the kill caught says so; nothing failed for another reason.
  const failed = drill.iterations.filter((iteration) => iteration.error !== undefined);
  for (const iteration of failed) expect(iteration.error).toMatch(NAMES_THE_LOSS);
  expect(drill.iterations.filter((iteration) => iteration.phase === "before").length).toBeGreaterThanOrEqual(24);

  // The survivor is the one gateway left, and still serves.
  expect(await connectedGateways(edge, "failover")).toHaveLength(1);
  expect(survivor.child.exitCode).toBeNull();
  await survivor.stop();
});

/**
 * Everything the tunnel benchmarks run against: the edge in-process (workerd through Miniflare's
 * API), server-everything over Streamable HTTP and the minimal echo upstream as real processes,
 * a tunnel, and a real gateway process exposing both upstreams. `stop()` ends every process by
 * its own PID; a failed start stops whatever had started.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { type RunningEdge, startEdge } from "../../test/helpers/edge.ts";
import { createTunnel, type TunnelTokens } from "../../test/helpers/mcp-client.ts";
import {
  type HttpMcpServer,
  type RunningProcess,
  startEverythingHttp,
  startGateway,
} from "../../test/helpers/processes.ts";
import { descendantsNamed } from "../lib/memory.ts";
import { type EchoUpstreamProcess, startEchoUpstreamProcess } from "../upstreams/echo-process.ts";
import { WS_ECHO_WORKER } from "../workers/ws-echo.ts";

export const TUNNEL = "bench";

export interface BenchSetup {
  edge: RunningEdge;
  /**
   * Wrangler's local trace collector (X_LOCAL_OBSERVABILITY): always "false", startEdge runs the
   * edge without it (a SQLite write per invocation that production does not have).
   */
  localObservability: string;
  /** The workerd process running the edge (its RSS is the edge's memory). */
  workerdPid: number;
  echo: EchoUpstreamProcess;
  everything: HttpMcpServer;
  tunnel: TunnelTokens;
  gateway: RunningProcess;
  /**
   * Processes by role, for CPU accounting: the client is this process; "edge" is the workerd running
   * the Worker and its Durable Objects (no proxy workerd sits in front of it).
   */
  processGroups(): Record<string, number[]>;
  stop(): Promise<void>;
}

export async function startSetup(): Promise<BenchSetup> {
  const processes: RunningProcess[] = [];
  let edge: RunningEdge | undefined;
  const stop = async () => {
    // The gateway first (it drains against the edge), then the upstreams, then the edge.
    for (const proc of processes.reverse()) await proc.stop("SIGTERM", 10_000);
    await edge?.close();
  };
  try {
    const started = await Promise.allSettled([
      startEdge({ workers: [WS_ECHO_WORKER] }),
      startEverythingHttp(),
      startEchoUpstreamProcess(),
    ]);
    const [edgeStart, everythingStart, echoStart] = started;
    if (edgeStart.status === "fulfilled") edge = edgeStart.value;
    if (everythingStart.status === "fulfilled") processes.push(everythingStart.value.process);
    if (echoStart.status === "fulfilled") processes.push(echoStart.value.process);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    if (!edge || everythingStart.status !== "fulfilled" || echoStart.status !== "fulfilled") {
      throw new Error("unreachable: a start failed without a reason");
    }
    const tunnel = await createTunnel(edge, TUNNEL);
    const gateway = await startGateway({
      edge: edge.url,
      token: tunnel.gatewayToken,
      servers: [`echo=${echoStart.value.url}`, `everything=${everythingStart.value.url}`],
    });
    processes.push(gateway);
    const workerdPid = edgeProcess();
    return {
      edge,
      localObservability: "false",
      workerdPid,
      echo: echoStart.value,
      everything: everythingStart.value,
      tunnel,
      gateway,
      processGroups: () => ({
        client: [process.pid],
        edge: [workerdPid],
        gateway: [gateway.pid],
        upstreams: [echoStart.value.process.pid, everythingStart.value.process.pid],
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The workerd process running the edge's Worker and Durable Objects: the one with the relay's SQLite storage open. */
function edgeProcess(): number {
  const pids = descendantsNamed("workerd");
  const owner = pids.find((pid) => openFiles(pid).some((path) => path.includes("TunnelRelay")));
  if (owner === undefined) throw new Error(`no workerd below this process holds the relay's storage (${pids})`);
  return owner;
}

function openFiles(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return "";
      }
    });
  } catch {
    return [];
  }
}

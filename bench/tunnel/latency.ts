/**
 * Small tools/call latency and throughput on every path at each level. All pools are opened
 * first (64 clients each), then each level runs every path back to back, so machine noise hits
 * the paths being compared at about the same time.
 */
import { mcpUrl } from "../../test/helpers/mcp-client.ts";
import { cpuDuring } from "../lib/cpu.ts";
import { type ClientPool, type Level, openPool, type PoolSpec } from "../lib/levels.ts";
import { mcpSessions } from "../lib/mcp-calls.ts";
import { type LoadResult, round } from "../lib/measure.ts";
import type { Row } from "../lib/report.ts";
import { openEchoSocket } from "../lib/ws-echo.ts";
import { echoSocketUrl } from "../workers/ws-echo.ts";
import { type BenchSetup, TUNNEL } from "./setup.ts";

export const LEVELS: Level[] = [
  { concurrency: 1, requests: 300, maxMs: 10_000 },
  { concurrency: 16, requests: 1_000, maxMs: 15_000 },
  { concurrency: 64, requests: 2_000, maxMs: 20_000 },
];

export type PathKind = "direct" | "edge floor" | "tunnel";

export interface LatencyRow {
  path: PathKind;
  what: string;
  result: LoadResult;
  /** CPU milliseconds per completed call, by process role (client, edge, gateway, upstreams). */
  cpuMsPerCall: Record<string, number>;
}

interface PathSpec {
  path: PathKind;
  what: string;
  spec: PoolSpec<unknown>;
}

export async function measureLatency(setup: BenchSetup): Promise<LatencyRow[]> {
  const { edge, tunnel } = setup;
  const frame = new Uint8Array(32).fill(7);
  const paths: PathSpec[] = [
    { path: "direct", what: "echo upstream", spec: erase(mcpSessions(setup.echo.url, "unused")) },
    { path: "direct", what: "server-everything", spec: erase(mcpSessions(setup.everything.url, "unused")) },
    {
      path: "edge floor",
      what: "GET /ping (fetch)",
      spec: erase<number>({
        open: async (index) => index,
        call: async () => {
          const response = await fetch(`${edge.url}/ping`);
          if ((await response.text()) !== "pong") throw new Error(`/ping answered ${response.status}`);
        },
        close: async () => {},
      }),
    },
    {
      path: "edge floor",
      what: "WebSocket echo, a DO",
      spec: erase({
        open: () => openEchoSocket(echoSocketUrl(edge.url, TUNNEL), {}),
        call: async (socket) => {
          const echoed = await socket.roundTrip(frame);
          if (echoed.byteLength !== frame.byteLength) throw new Error(`echo of ${echoed.byteLength} bytes`);
        },
        close: (socket) => socket.close(),
      }),
    },
    {
      path: "tunnel",
      what: "echo upstream",
      spec: erase(mcpSessions(mcpUrl(edge, TUNNEL, "echo"), tunnel.agentToken)),
    },
    {
      path: "tunnel",
      what: "server-everything",
      spec: erase(mcpSessions(mcpUrl(edge, TUNNEL, "everything"), tunnel.agentToken)),
    },
  ];
  const clients = Math.max(...LEVELS.map((level) => level.concurrency));
  const pools: ClientPool[] = [];
  try {
    for (const { spec } of paths) pools.push(await openPool(clients, spec));
    const rows: LatencyRow[] = [];
    for (const level of LEVELS) {
      for (const [i, { path, what }] of paths.entries()) {
        const pool = pools[i] as ClientPool;
        const { value: result, cpuMs } = await cpuDuring(setup.processGroups(), () => pool.measure(level));
        // measure() also makes min(20, requests) warm-up calls inside the CPU window.
        const calls = result.calls + result.errors + Math.min(20, level.requests);
        const perCall = (ms: number) => round(ms / calls, 2);
        const cpuMsPerCall = Object.fromEntries(Object.entries(cpuMs).map(([role, ms]) => [role, perCall(ms)]));
        console.log(`  ${path} ${what} × ${level.concurrency}: p50 ${result.p50Ms} ms, ${result.callsPerSecond}/s`);
        rows.push({ path, what, result, cpuMsPerCall });
      }
    }
    return rows;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/** Infers a pool's client type from `open` (checking `call` and `close` against it), then lets paths with different clients share one list. */
function erase<T>(spec: PoolSpec<T>): PoolSpec<unknown> {
  return spec;
}

export function latencyRow({ path, what, result, cpuMsPerCall }: LatencyRow): Row {
  return {
    path,
    what,
    clients: result.concurrency,
    p50_ms: result.p50Ms,
    p99_ms: result.p99Ms,
    calls_per_s: result.callsPerSecond,
    calls: result.calls,
    errors: result.errors,
    ...Object.fromEntries(Object.entries(cpuMsPerCall).map(([role, ms]) => [`cpu_ms/call_${role}`, ms])),
    first_error: result.firstError?.slice(0, 80),
  };
}

/**
 * Managed Agents benchmarks: the edge in-process (Miniflare's API via the shared test helper) and
 * the API stand-in in this process, an environment in webhook mode.
 *  - latency: from an `agent.tool_use` appearing on the session's event stream to its
 *    `user.tool_result` being posted, for bash and read, beside the same tool call made directly
 *    on the sandbox API (interleaved, same sandbox); target ≤ 5 ms more at p50;
 *  - load: 50 concurrent sessions × 20 calls: results lost or posted twice, leases lost, and how
 *    late heartbeats came against their interval (the lease TTL is short here so beats are many).
 * Every wait is bounded; the run stops by itself.
 */
import { sessionSandboxId } from "../src/managed-agents/runner-contract.ts";
import { startEdge } from "../test/helpers/edge.ts";
import { type AnthropicApiStandIn, startAnthropicApiStandIn } from "../test/stand-ins/anthropic-api-stand-in.ts";
import { percentile, round } from "./lib/measure.ts";
import { printTable, type Row, writeResults } from "./lib/report.ts";

const LATENCY_ITERATIONS = 200;
const LOAD_SESSIONS = 50;
const LOAD_CALLS = 20;
/** Heartbeats every TTL/2 = 3 s during the load run. */
const LOAD_TTL_SECONDS = 6;
const WAIT_MS = 60_000;

export default async function managedAgentsBench(): Promise<void> {
  const edge = await startEdge();
  const api = await startAnthropicApiStandIn();
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${edge.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const results = resultWaiter(api);
  const environment = async (name: string, ttlSeconds: number) => {
    const env = api.createEnvironment({ ttlSeconds, webhookUrl: `${edge.url}/managed-agents/${name}/webhook` });
    await admin("POST", "/admin/environments", {
      name,
      environment_id: env.id,
      environment_key: env.key,
      api_base_url: api.url,
      mode: "webhook",
      webhook_secret: env.webhookSecret,
      max_sessions: 64,
    });
    return env;
  };
  const openSession = async (environmentId: string) => {
    const session = api.createSession(environmentId);
    await bounded(api.untilStreamsOpened(session.sessionId, 1), `the runner of ${session.sessionId} to follow it`);
    return session;
  };
  const toolUse = async (sessionId: string, name: string, input: Record<string, unknown>) => {
    const t0 = performance.now();
    const [use] = api.pushToolUses(sessionId, [{ name, input }]);
    if (!use) throw new Error("no tool use recorded");
    const result = await results.next(use.id);
    if (result.is_error) throw new Error(`${name} answered an error: ${JSON.stringify(result.content)}`);
    return performance.now() - t0;
  };

  try {
    // ---- latency ----
    const env = await environment("bench-latency", 60);
    const session = await openSession(env.id);
    const sandbox = sessionSandboxId(session.sessionId);
    await toolUse(session.sessionId, "write", { file_path: "bench.txt", content: "alpha\nbeta\ngamma\n" });
    const direct = async (name: string, input: Record<string, unknown>) => {
      const t0 = performance.now();
      const res = await fetch(`${edge.url}/v1/sandboxes/${sandbox}/tool-calls`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${edge.adminToken}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify({ type: "tool_use", id: `toolu_${crypto.randomUUID()}`, name, input }),
      });
      const body = (await res.json()) as { content: { is_error?: boolean }[] };
      if (!res.ok || body.content[0]?.is_error)
        throw new Error(`direct ${name}: ${JSON.stringify(body).slice(0, 200)}`);
      return performance.now() - t0;
    };
    const cases: [string, () => Promise<number>][] = [
      ["bash echo: Managed Agents event → result", () => toolUse(session.sessionId, "bash", { command: "echo hi" })],
      ["bash echo: sandbox API directly", () => direct("bash", { command: "echo hi" })],
      ["read: Managed Agents event → result", () => toolUse(session.sessionId, "read", { file_path: "bench.txt" })],
      ["read: sandbox API directly", () => direct("read", { file_path: "/workspace/bench.txt" })],
    ];
    const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let i = 0; i < 10; i++) for (const [, run] of cases) await run(); // warm-up
    for (let i = 0; i < LATENCY_ITERATIONS; i++) {
      for (const [name, run] of cases) samples.get(name)?.push(await run());
    }
    const latencyRows: Row[] = cases.map(([name]) => {
      const sorted = (samples.get(name) ?? []).sort((a, b) => a - b);
      return {
        benchmark: name,
        p50_ms: round(percentile(sorted, 0.5)),
        p95_ms: round(percentile(sorted, 0.95)),
        p99_ms: round(percentile(sorted, 0.99)),
        calls: sorted.length,
      };
    });
    const p50 = (name: string) => Number(latencyRows.find((row) => row.benchmark === name)?.p50_ms);
    const overhead = {
      bash_p50_ms: round(p50(cases[0]![0]) - p50(cases[1]![0])),
      read_p50_ms: round(p50(cases[2]![0]) - p50(cases[3]![0])),
      target_ms: 5,
    };
    printTable("Managed Agents: tool use on the stream → result posted, beside the sandbox API", latencyRows);
    console.log(`overhead at p50: bash ${overhead.bash_p50_ms} ms, read ${overhead.read_p50_ms} ms (target ≤ 5 ms)`);
    api.terminate(session.sessionId);

    // ---- load ----
    const loadEnv = await environment("bench-load", LOAD_TTL_SECONDS);
    const began = performance.now();
    const sessions = await Promise.all(Array.from({ length: LOAD_SESSIONS }, () => openSession(loadEnv.id)));
    const ready = performance.now();
    const uses: string[] = [];
    let failures = 0;
    await Promise.all(
      sessions.map(async ({ sessionId }) => {
        for (let i = 0; i < LOAD_CALLS; i++) {
          const [use] = api.pushToolUses(sessionId, [{ name: "bash", input: { command: `echo ${i}` } }]);
          if (!use) continue;
          uses.push(use.id);
          await results.next(use.id).catch(() => failures++);
        }
      }),
    );
    const done = performance.now();
    for (const { sessionId } of sessions) api.terminate(sessionId);
    await until(
      () => sessions.every((s) => api.work(s.workId).state === "stopped"),
      "every load session's work to stop",
    );
    const counts = new Map<string, number>();
    for (const { sessionId } of sessions) {
      for (const event of api.posted(sessionId)) {
        if (event.type !== "user.tool_result" || !("tool_use_id" in event)) continue;
        counts.set(event.tool_use_id, (counts.get(event.tool_use_id) ?? 0) + 1);
      }
    }
    const lost = uses.filter((id) => !counts.has(id)).length;
    const duplicated = [...counts.values()].filter((n) => n > 1).length;
    const beats = heartbeatLateness(api, new Set(sessions.map((s) => s.workId)), (LOAD_TTL_SECONDS * 1000) / 2);
    const loadRow: Row = {
      sessions: LOAD_SESSIONS,
      calls: uses.length,
      failed_waits: failures,
      lost,
      duplicated,
      leases_lost: beats.refused,
      sessions_ready_ms: Math.round(ready - began),
      calls_per_s: Math.round((uses.length / (done - ready)) * 1000),
      heartbeats: beats.count,
      beat_lateness_p50_ms: beats.p50,
      beat_lateness_p99_ms: beats.p99,
      beat_gap_max_ms: beats.maxGap,
    };
    printTable(
      `Managed Agents: ${LOAD_SESSIONS} sessions × ${LOAD_CALLS} bash calls (lease TTL ${LOAD_TTL_SECONDS} s)`,
      [loadRow],
    );
    const path = writeResults("managed-agents", { latency: latencyRows, overhead, load: loadRow });
    console.log(`\nwrote ${path}`);
  } finally {
    results.close();
    await api.close();
    await edge.close();
  }
}

/** Resolves when the result for a tool use is posted (each waits at most WAIT_MS). */
function resultWaiter(api: AnthropicApiStandIn) {
  type Result = { is_error?: boolean; content?: unknown };
  const arrived = new Map<string, Result>();
  const waiting = new Map<string, (result: Result) => void>();
  const stop = api.onPosted((_session, event) => {
    if (event.type !== "user.tool_result" || !("tool_use_id" in event)) return;
    const result = event as Result;
    const resolve = waiting.get(event.tool_use_id);
    if (resolve) {
      waiting.delete(event.tool_use_id);
      resolve(result);
    } else arrived.set(event.tool_use_id, result);
  });
  return {
    next(id: string): Promise<Result> {
      const early = arrived.get(id);
      if (early) {
        arrived.delete(id);
        return Promise.resolve(early);
      }
      return bounded(new Promise<Result>((resolve) => waiting.set(id, resolve)), `the result of ${id}`);
    },
    close: stop,
  };
}

/** Heartbeats of the given work items as the stand-in answered them: lateness past the interval. */
function heartbeatLateness(api: AnthropicApiStandIn, workIds: Set<string>, intervalMs: number) {
  const byWork = new Map<string, number[]>();
  let refused = 0;
  for (const call of api.calls) {
    const match = /\/work\/([^/]+)\/heartbeat$/.exec(call.path);
    if (!match?.[1] || !workIds.has(match[1])) continue;
    if (call.status === 412) refused++;
    byWork.set(match[1], [...(byWork.get(match[1]) ?? []), call.at]);
  }
  const lateness: number[] = [];
  let maxGap = 0;
  for (const times of byWork.values()) {
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] as number) - (times[i - 1] as number);
      maxGap = Math.max(maxGap, gap);
      lateness.push(Math.max(0, gap - intervalMs));
    }
  }
  lateness.sort((a, b) => a - b);
  return {
    count: [...byWork.values()].reduce((sum, times) => sum + times.length, 0),
    refused,
    p50: round(percentile(lateness, 0.5)),
    p99: round(percentile(lateness, 0.99)),
    maxGap,
  };
}

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Sandboxes on a gateway's executor, against what bounds them from below, in one run: the edge
 * in-process, the echo upstream and ONE real gateway process serving both `--server echo=URL` and
 * `--executor main=TMPDIR`.
 *  - warm `bash echo hi` through the tunnel and the executor, beside the same on an edge sandbox
 *  - `bash -c 'echo hi'` spawned locally (the process cost the executor cannot avoid)
 *  - the relay's own per-call cost: an MCP tools/call echo through the same tunnel
 *  - time to the first streamed output line (NDJSON) of a command that keeps running
 *  - create → first command on a gateway sandbox
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEdge } from "../test/helpers/edge.ts";
import { connectMcp, createTunnel, mcpUrl } from "../test/helpers/mcp-client.ts";
import { type RunningProcess, startGateway } from "../test/helpers/processes.ts";
import { callEcho } from "./lib/mcp-calls.ts";
import { type LoadResult, measure, percentile, round } from "./lib/measure.ts";
import { printTable, type Row, writeResults } from "./lib/report.ts";
import { startEchoUpstreamProcess } from "./upstreams/echo-process.ts";

const TUNNEL = "bench";
const EXECUTOR = "main";
const BACKEND = { type: "gateway", tunnel: TUNNEL, executor: EXECUTOR };

export default async function executorBench(): Promise<void> {
  // Spawned before anything else starts (fork's cost grows with the spawning process's memory); again below.
  const local = await spawnEchoHi();
  const workdir = await mkdtemp(join(tmpdir(), "tether-bench-executor-"));
  const processes: RunningProcess[] = [];
  const edge = await startEdge();
  try {
    const echo = await startEchoUpstreamProcess();
    processes.push(echo.process);
    const tunnel = await createTunnel(edge, TUNNEL);
    const gateway = await startGateway({
      edge: edge.url,
      token: tunnel.gatewayToken,
      servers: [`echo=${echo.url}`],
      // Executors refuse to run as root unless told to (sandboxes' commands would run as root).
      args: ["--executor", `${EXECUTOR}=${workdir}`, ...(process.getuid?.() === 0 ? ["--allow-root"] : [])],
    });
    processes.push(gateway);

    const admin = { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" };
    /** Creates a sandbox; a gateway that has not announced its executor yet answers 503, so retry briefly. */
    const create = async (id: string, backend?: typeof BACKEND): Promise<string> => {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${edge.url}/v1/sandboxes`, {
          method: "POST",
          headers: admin,
          body: JSON.stringify(backend ? { id, backend } : { id }),
        });
        if (res.ok) return ((await res.json()) as { token: string }).token;
        if (res.status !== 503 || attempt >= 50) throw new Error(`create ${id}: ${res.status} ${await res.text()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    let seq = 0;
    const toolCall = (id: string, token: string, command: string, accept: string) =>
      fetch(`${edge.url}/v1/sandboxes/${id}/tool-calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept },
        body: JSON.stringify({ type: "tool_use", id: `toolu_${++seq}`, name: "bash", input: { command } }),
      });
    const bash = async (id: string, token: string, command: string, expected: string) => {
      const res = await toolCall(id, token, command, "application/json");
      const body = (await res.json()) as { content: Array<{ is_error?: boolean; content: unknown }> };
      const text = JSON.stringify(body.content[0]?.content);
      if (!res.ok || body.content[0]?.is_error || !text.includes(expected)) {
        throw new Error(`bash failed (${res.status}): ${text.slice(0, 300)}`);
      }
    };

    const rows: Row[] = [];
    const add = (name: string, r: LoadResult) =>
      rows.push({
        benchmark: name,
        p50_ms: r.p50Ms,
        p99_ms: r.p99Ms,
        calls: r.calls,
        errors: r.errors,
        first_error: r.firstError?.slice(0, 80),
      });
    const warm = { concurrency: 1, requests: 200, maxMs: 60_000 };

    const gatewayToken = await create("bench-gateway", BACKEND);
    const executorBash = await measure(() => bash("bench-gateway", gatewayToken, "echo hi", "hi"), warm);
    add("warm bash `echo hi`, gateway executor", executorBash);

    const edgeToken = await create("bench-edge");
    add("warm bash `echo hi`, edge sandbox", await measure(() => bash("bench-edge", edgeToken, "echo hi", "hi"), warm));

    add("bash -c 'echo hi' spawned locally, before the edge", local);
    add("bash -c 'echo hi' spawned locally, beside the edge", await spawnEchoHi());
    rows.push({
      benchmark: `(this process's resident memory now: ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB)`,
    });

    const session = await connectMcp(mcpUrl(edge, TUNNEL, "echo"), tunnel.agentToken, { tetherHeader: true });
    let relay: LoadResult;
    try {
      relay = await measure(() => callEcho(session), warm);
    } finally {
      await session.close();
    }
    add("relay per call: MCP echo through the tunnel", relay);

    const firstOutput = await sampled(() =>
      firstOutputMs(() =>
        toolCall("bench-gateway", gatewayToken, "echo start; sleep 0.2; echo end", "application/x-ndjson"),
      ),
    );
    add("first streamed output line (NDJSON), gateway", firstOutput);

    let n = 0;
    const createFirst = await sampled(async () => {
      const id = `bench-create-${n++}`;
      const t0 = performance.now();
      const token = await create(id, BACKEND);
      await bash(id, token, "echo ready", "ready");
      const ms = performance.now() - t0;
      // Deleted outside the timing, so the executor holds one workspace and shell at a time.
      const gone = await fetch(`${edge.url}/v1/sandboxes/${id}`, { method: "DELETE", headers: admin });
      if (gone.status !== 204) throw new Error(`delete ${id}: ${gone.status}`);
      return ms;
    });
    add("create + first bash, gateway", createFirst);

    const targets = {
      "warm executor bash p50 <= relay per-call p50 + 2 ms": executorBash.p50Ms <= relay.p50Ms + 2,
    };
    printTable("Executor benchmarks (edge in-process, one real gateway with an executor)", rows);
    console.log(
      `\nexecutor bash above relay: ${round(executorBash.p50Ms - relay.p50Ms)} ms; above local spawn: ${round(executorBash.p50Ms - local.p50Ms)} ms (p50)`,
    );
    printTable(
      "Targets",
      Object.entries(targets).map(([target, met]) => ({ target, met })),
    );
    console.log(`\nwrote ${writeResults("executor", { rows, targets })}`);
  } finally {
    // The gateway first (it drains against the edge), then the upstream, then the edge.
    for (const proc of processes.reverse()) await proc.stop("SIGTERM", 10_000);
    await edge.close();
    await rm(workdir, { recursive: true, force: true });
  }
}

/**
 * `bash -c 'echo hi'` spawned with child_process, 200 times one after another. stdin is /dev/null:
 * with a socket there (child_process's default pipes are socket pairs) bash believes sshd started it
 * and sources ~/.bashrc, which would time the machine's shell profile, not the spawn.
 */
function spawnEchoHi(): Promise<LoadResult> {
  return measure(
    async () => {
      const stdout = await new Promise<string>((resolve, reject) => {
        const child = spawn("bash", ["-c", "echo hi"], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
        });
        child.once("error", reject);
        child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`local bash exited ${code}`))));
      });
      if (stdout !== "hi\n") throw new Error(`local bash printed ${JSON.stringify(stdout)}`);
    },
    { concurrency: 1, requests: 200, maxMs: 60_000 },
  );
}

/** 30 samples (after 2 unmeasured) of an operation that reports its own milliseconds. */
async function sampled(sample: () => Promise<number>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const begin = performance.now();
  for (let i = 0; i < 32; i++) {
    try {
      const ms = await sample();
      if (i >= 2) latencies.push(ms);
    } catch (error) {
      errors++;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  }
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    concurrency: 1,
    calls: latencies.length,
    errors,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    callsPerSecond: Math.round((latencies.length / (performance.now() - begin)) * 1000),
  };
  if (firstError) result.firstError = firstError;
  return result;
}

/** Milliseconds from sending an NDJSON tool call to its first `output` line; the answer is then read to its end. */
async function firstOutputMs(send: () => Promise<Response>): Promise<number> {
  const t0 = performance.now();
  const res = await send();
  if (!res.ok || !res.body) throw new Error(`streamed call: ${res.status}`);
  let firstAt: number | undefined;
  let buffered = "";
  for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const event = JSON.parse(buffered.slice(0, nl)) as { event?: string };
      buffered = buffered.slice(nl + 1);
      if (event.event === "output") firstAt ??= performance.now();
    }
  }
  if (firstAt === undefined) throw new Error("the stream ended without an output event");
  return firstAt - t0;
}

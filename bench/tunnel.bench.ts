/**
 * Tunnel benchmarks, side by side in one run, with the same client (the official MCP SDK client
 * over Streamable HTTP) doing a small tools/call "echo":
 *  (a) direct to the upstream over HTTP: server-everything (a real process) and a minimal echo
 *      upstream (bench/upstreams/echo-upstream.ts, a real process too);
 *  (b) the edge's own floor: the Worker's trivial route (plain fetch) and a bare WebSocket echo
 *      through the relay Durable Object;
 *  (c) through the tunnel: the edge in-process (Miniflare via test/helpers/edge.ts) + a real
 *      gateway process + the same upstreams.
 * p50/p99 and calls/s at 1, 16 and 64 clients (one SDK session or socket each); 1 KiB, 1 MiB and
 * 16 MiB tool results through the tunnel vs direct (time, peak RSS growth of workerd and of the
 * gateway); the gateway's idle RSS; failover (a second gateway SIGKILLed under load: calls failed,
 * the longest stall). Then the targets, met or not.
 */
import { rssMiB } from "./lib/memory.ts";
import { printTable, type Row, writeResults } from "./lib/report.ts";
import { measureFailover } from "./tunnel/failover.ts";
import { measureIdle } from "./tunnel/idle.ts";
import { LEVELS, latencyRow, measureLatency } from "./tunnel/latency.ts";
import { measureResults } from "./tunnel/results.ts";
import { type BenchSetup, startSetup } from "./tunnel/setup.ts";
import { latencyTargets, type Target } from "./tunnel/targets.ts";

export default async function tunnelBench(): Promise<void> {
  let setup: BenchSetup | undefined;
  try {
    setup = await startSetup();
    console.log(
      `edge ${setup.edge.url} (workerd pid ${setup.workerdPid}), gateway pid ${setup.gateway.pid}, ` +
        `echo upstream ${setup.echo.url}, server-everything ${setup.everything.url}, ` +
        `X_LOCAL_OBSERVABILITY=${setup.localObservability}`,
    );
    const idle = await measureIdle(setup);

    const latency = await measureLatency(setup);
    const results = await measureResults(setup);
    const afterLoad = { gatewayMiB: rssMiB(setup.gateway.pid), workerdMiB: rssMiB(setup.workerdPid) };
    // Last: it adds a gateway and kills it (the setup's own gateway survives).
    const failover = await measureFailover(setup);

    const targets: Target[] = [
      ...latencyTargets(latency),
      ...results.targets,
      ...idle.gateways.map(({ kind, mib }) => ({
        target: `idle gateway RSS <= 60 MiB (${kind})`,
        measured: `${mib} MiB`,
        met: mib <= 60,
      })),
      failover.target,
    ];

    printTable(
      `Small tools/call "echo", one MCP SDK session per client (edge floors: plain fetch, one WebSocket per client); ` +
        `cpu_ms/call = CPU per call by process`,
      latency.map(latencyRow),
    );
    printTable("Tool results through the tunnel vs direct (echo upstream's blob tool)", results.rows);
    printTable("Idle memory after connect (RSS)", idle.rows);
    printTable("After the benchmarks (RSS)", [afterLoad]);
    printTable("Failover: 2 gateways, 4 clients opening a session per echo call, one gateway SIGKILLed", [
      failover.row,
    ]);
    printTable(
      "Targets",
      targets.map((t): Row => ({ ...t })),
    );
    const path = writeResults("tunnel", {
      localObservability: setup.localObservability,
      levels: LEVELS,
      latency,
      results: results.rows,
      idle: idle.rows,
      afterLoad,
      failover: failover.row,
      targets,
    });
    console.log(`\nwrote ${path}`);
  } finally {
    await setup?.stop();
  }
}

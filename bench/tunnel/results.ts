/**
 * Large tool results (the echo upstream's blob tool) direct and through the tunnel: time per call
 * and how far the edge's workerd and the gateway grow in RSS while the bytes stream through.
 * Growth is measured from just before the first call of a size, so the tunnel's first 16 MiB
 * call counts too (nothing is warmed through the tunnel beforehand).
 */
import type { McpSession } from "../../test/helpers/mcp-client.ts";
import { mcpUrl } from "../../test/helpers/mcp-client.ts";
import { cpuDuring } from "../lib/cpu.ts";
import { callBlob, fetchBlob, mcpSessions } from "../lib/mcp-calls.ts";
import { percentile, round } from "../lib/measure.ts";
import { peakRss } from "../lib/memory.ts";
import type { Row } from "../lib/report.ts";
import { type BenchSetup, TUNNEL } from "./setup.ts";
import type { Target } from "./targets.ts";

const MiB = 1024 * 1024;
export const RESULT_SIZES = [
  { label: "1 KiB", bytes: 1024, runs: 30 },
  { label: "1 MiB", bytes: MiB, runs: 10 },
  { label: "16 MiB", bytes: 16 * MiB, runs: 3 },
];
/** Neither side may grow by more than this while 16 MiB stream through. */
const GROWTH_LIMIT_MIB = 64;

export async function measureResults(setup: BenchSetup): Promise<{ rows: Row[]; targets: Target[] }> {
  const tunnelUrl = mcpUrl(setup.edge, TUNNEL, "echo");
  const { agentToken } = setup.tunnel;
  const sessions: McpSession[] = [];
  try {
    const direct = await mcpSessions(setup.echo.url, "unused").open(0);
    sessions.push(direct);
    const tunneled = await mcpSessions(tunnelUrl, agentToken).open(0);
    sessions.push(tunneled);
    const paths = [
      { path: "direct", call: (bytes: number) => callBlob(direct, bytes) },
      { path: "tunnel", call: (bytes: number) => callBlob(tunneled, bytes) },
      // Diagnostic: the same call without the gzip the local edge adds for JSON (see fetchBlob).
      {
        path: "tunnel, raw fetch, no gzip",
        call: (bytes: number) => fetchBlob(tunneled, tunnelUrl, agentToken, bytes),
      },
    ];
    const rows: Row[] = [];
    const targets: Target[] = [];
    for (const size of RESULT_SIZES) {
      // Builds the upstream's cached blob of this size outside any measurement.
      await callBlob(direct, size.bytes);
      for (const { path, call } of paths) {
        const pids = [setup.workerdPid, setup.gateway.pid];
        const { value: sampled, cpuMs } = await cpuDuring(setup.processGroups(), () =>
          peakRss(pids, async () => {
            const ms: number[] = [];
            for (let run = 0; run < size.runs; run++) {
              const t0 = performance.now();
              await call(size.bytes);
              ms.push(performance.now() - t0);
            }
            return ms.sort((a, b) => a - b);
          }),
        );
        const { value: times, peakMiB, baseMiB } = sampled;
        const [workerdGrowth, gatewayGrowth] = peakMiB.map((peak, i) => round(peak - (baseMiB[i] as number), 1));
        const p50 = percentile(times, 0.5);
        rows.push({
          size: size.label,
          path,
          calls: size.runs,
          p50_ms: round(p50),
          max_ms: round(times[times.length - 1] as number),
          mib_per_s: round(size.bytes / MiB / (p50 / 1000), 2),
          workerd_peak_growth_mib: workerdGrowth,
          gateway_peak_growth_mib: gatewayGrowth,
          ...Object.fromEntries(
            Object.entries(cpuMs).map(([role, ms]) => [`cpu_ms/call_${role}`, round(ms / size.runs, 1)]),
          ),
        });
        console.log(`  ${size.label} ${path}: p50 ${round(p50)} ms`);
        if (path === "tunnel" && size.bytes === 16 * MiB) {
          const worst = Math.max(workerdGrowth ?? 0, gatewayGrowth ?? 0);
          targets.push({
            target: `16 MiB result: edge and gateway RSS growth <= ${GROWTH_LIMIT_MIB} MiB`,
            measured: `workerd +${workerdGrowth} MiB, gateway +${gatewayGrowth} MiB`,
            met: worst <= GROWTH_LIMIT_MIB,
          });
        }
      }
    }
    return { rows, targets };
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
}

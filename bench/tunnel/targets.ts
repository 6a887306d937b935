/** The tunnel's performance targets, computed from the latency rows (limits in the names). */
import type { LatencyRow } from "./latency.ts";

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

export function latencyTargets(rows: LatencyRow[]): Target[] {
  const find = (path: LatencyRow["path"], what: string, clients: number) => {
    const row = rows.find((r) => r.path === path && r.what === what && r.result.concurrency === clients);
    if (!row) throw new Error(`no measurement for ${path} ${what} × ${clients}`);
    return row.result;
  };
  const ping1 = find("edge floor", "GET /ping (fetch)", 1);
  const ping64 = find("edge floor", "GET /ping (fetch)", 64);
  const targets: Target[] = [];
  for (const upstream of ["echo upstream", "server-everything"]) {
    const added = find("tunnel", upstream, 1).p50Ms - find("direct", upstream, 1).p50Ms;
    const limit = ping1.p50Ms + 1;
    targets.push({
      target: `${upstream}, 1 client: tunnel p50 - direct p50 <= trivial route p50 + 1 ms`,
      measured: `${added.toFixed(2)} ms (limit ${limit.toFixed(2)} ms)`,
      met: added <= limit,
    });
  }
  const echo64 = find("tunnel", "echo upstream", 64);
  targets.push({
    target: "echo upstream, 64 clients: tunnel calls/s >= 70% of trivial route's",
    measured: `${echo64.callsPerSecond}/s = ${percent(echo64.callsPerSecond, ping64.callsPerSecond)} of ${ping64.callsPerSecond}/s`,
    met: echo64.callsPerSecond >= 0.7 * ping64.callsPerSecond,
  });
  const everything64 = find("tunnel", "server-everything", 64);
  const direct64 = find("direct", "server-everything", 64);
  targets.push({
    target: "server-everything, 64 clients: tunnel calls/s >= 60% of direct, zero errors",
    measured:
      `${everything64.callsPerSecond}/s = ${percent(everything64.callsPerSecond, direct64.callsPerSecond)} ` +
      `of ${direct64.callsPerSecond}/s, ${everything64.errors} errors`,
    met: everything64.callsPerSecond >= 0.6 * direct64.callsPerSecond && everything64.errors === 0,
  });
  return targets;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : "n/a";
}

/**
 * Failover, measured: a second gateway joins the bench tunnel in front of the same
 * server-everything (plus a server name only it announces, for the witness call), four clients
 * keep opening new MCP sessions with one echo call each, and the second gateway is SIGKILLed by
 * its PID after a fixed number of calls (test/helpers/failover-drill.ts). Reported: calls made,
 * calls failed (by when they started), how long the calls caught by the kill took to end, how long
 * the edge took to drop the dead gateway, and the longest stall after the kill: the longest time
 * in which no call anywhere completed successfully, from the kill on (the first gap starts at the
 * kill). Each call is a new session (initialize, echo, DELETE): its time before and after the kill
 * is printed beside the stall, for scale.
 */
import { runFailoverDrill } from "../../test/helpers/failover-drill.ts";
import { startGateway } from "../../test/helpers/processes.ts";
import { percentile, round } from "../lib/measure.ts";
import type { Row } from "../lib/report.ts";
import { type BenchSetup, TUNNEL } from "./setup.ts";
import type { Target } from "./targets.ts";

const CLIENTS = 4;
const BEFORE = 200;
const AFTER_PER_CLIENT = 25;

export async function measureFailover(setup: BenchSetup): Promise<{ row: Row; target: Target }> {
  const doomed = await startGateway({
    edge: setup.edge.url,
    token: setup.tunnel.gatewayToken,
    servers: [`everything=${setup.everything.url}`, `pinned=${setup.everything.url}`],
  });
  try {
    const drill = await runFailoverDrill({
      edge: setup.edge,
      tunnel: TUNNEL,
      agentToken: setup.tunnel.agentToken,
      server: "everything",
      pinnedServer: "pinned",
      doomed,
      clients: CLIENTS,
      before: BEFORE,
      after: AFTER_PER_CLIENT,
    });
    const failed = drill.iterations.filter((iteration) => iteration.error !== undefined);
    const byPhase = (phase: string) => failed.filter((iteration) => iteration.phase === phase).length;
    const inFlightAtKill = drill.iterations
      .filter((iteration) => iteration.startedAt <= drill.killedAt && iteration.endedAt > drill.killedAt)
      .map((iteration) => iteration.endedAt - drill.killedAt);
    const longestStall = longestGap(
      drill.killedAt,
      drill.iterations.filter((iteration) => iteration.error === undefined).map((iteration) => iteration.endedAt),
    );
    const p50 = (phase: string) =>
      round(
        percentile(
          drill.iterations
            .filter((iteration) => iteration.phase === phase)
            .map((iteration) => iteration.endedAt - iteration.startedAt)
            .sort((a, b) => a - b),
          0.5,
        ),
      );
    const row: Row = {
      clients: CLIENTS,
      calls: drill.iterations.length + 1,
      failed: failed.length + (drill.witness.code === undefined ? 0 : 1),
      "failed: in flight at the kill (incl. witness)": byPhase("before") + (drill.witness.code === undefined ? 0 : 1),
      "failed: started before the edge noticed": byPhase("during"),
      "failed: started after": byPhase("after"),
      witness_error_after_ms: drill.witness.settledAfterMs,
      in_flight_at_kill_ended_within_ms: Math.max(drill.witness.settledAfterMs, ...inFlightAtKill),
      edge_dropped_gateway_after_ms: drill.droppedAt - drill.killedAt,
      longest_stall_after_kill_ms: longestStall,
      "session+call p50 before / after (ms)": `${p50("before")} / ${p50("after")}`,
    };
    const lateFailures = byPhase("after");
    return {
      row,
      target: {
        target: "gateway SIGKILLed under load: every session opened after the edge dropped it succeeds",
        measured: `${lateFailures} of ${CLIENTS * AFTER_PER_CLIENT} failed; longest stall ${round(longestStall)} ms`,
        met: lateFailures === 0,
      },
    };
  } finally {
    await doomed.stop("SIGKILL");
  }
}

/** The longest interval from `from` on between successive completion times (those after `from`). */
function longestGap(from: number, completions: number[]): number {
  let longest = 0;
  let last = from;
  for (const at of completions.filter((time) => time > from).sort((a, b) => a - b)) {
    longest = Math.max(longest, at - last);
    last = at;
  }
  return longest;
}

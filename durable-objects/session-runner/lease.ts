/**
 * One heartbeat of a runner's lease (protocol §2, §8): echoes the last `last_heartbeat` exactly
 * (compare-and-set), keeps what the API answered, and says whether the work is still ours.
 */
import { ApiError } from "../../src/managed-agents/api-client.ts";
import { ASSUMED_LEASE_TTL_SECONDS, heartbeatIntervalMs } from "../../src/managed-agents/runner/timings.ts";
import type { WorkApi } from "../../src/managed-agents/runner/work-api.ts";
import type { RunnerStore, WorkRow } from "./store.ts";

export type BeatOutcome =
  | { kind: "kept" }
  /** Failed, but the lease may still hold: the next beat tries again. */
  | { kind: "failed" }
  /** The work is no longer ours; `forceStop` unless the lease was lost (412, lapsed). */
  | { kind: "over"; reason: string; forceStop: boolean }
  | { kind: "refused"; error: ApiError };

/** When the next beat is due. */
export function nextBeatAt(row: WorkRow): number {
  return (row.last_heartbeat_at ?? row.lease_since) + heartbeatIntervalMs(row.ttl_seconds);
}

/**
 * The runner's next alarm: the next beat or the idle exit, whichever comes first. A beat that failed
 * leaves the next one due already: it is tried again a second later, not at once.
 */
export function nextAlarmAt(row: WorkRow, now = Date.now()): number {
  const beat = Math.max(row.last_heartbeat === null ? 0 : nextBeatAt(row), now + 1000);
  return Math.min(beat, row.idle_deadline ?? Number.POSITIVE_INFINITY);
}

export async function heartbeat(store: RunnerStore, api: WorkApi, row: WorkRow): Promise<BeatOutcome> {
  const interval = heartbeatIntervalMs(row.ttl_seconds);
  // The lease counts from when the beat was sent (the API extended it somewhere between sending and
  // the answer): the safe side for the TTL, and it keeps the beats an interval apart however long
  // each answer takes.
  const sentAt = Date.now();
  try {
    // A beat's timeout is the interval (§8); its retries stay inside it.
    const answer = await api.heartbeat(
      row.last_heartbeat,
      { withinMs: interval, baseMs: Math.min(500, interval), capMs: interval },
      AbortSignal.timeout(interval),
    );
    if (answer.kind === "precondition_failed") return { kind: "over", reason: "lease lost", forceStop: false };
    const { beat } = answer;
    store.beat(beat.last_heartbeat, beat.ttl_seconds, sentAt);
    if (beat.state === "stopping" || beat.state === "stopped") {
      return { kind: "over", reason: `work ${beat.state}`, forceStop: true };
    }
    if (!beat.lease_extended) return { kind: "over", reason: "lease not extended", forceStop: true };
    return { kind: "kept" };
  } catch (error) {
    if (error instanceof ApiError && error.credentialsRefused) return { kind: "refused", error };
    store.recordError(`heartbeat: ${error instanceof Error ? error.message : String(error)}`);
    const ttlMs = (row.ttl_seconds ?? ASSUMED_LEASE_TTL_SECONDS) * 1000;
    if (Date.now() - row.lease_since > ttlMs) return { kind: "over", reason: "lease lost", forceStop: false };
    return { kind: "failed" };
  }
}

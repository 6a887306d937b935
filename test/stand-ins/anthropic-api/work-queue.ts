/**
 * The stand-in's work queue (`/v1/environments/{env}/work`): items queued by sessions, handed out by
 * polls (again after `reclaim_older_than_ms` while unacknowledged), acknowledged, kept alive by
 * compare-and-set heartbeats, re-queued when the lease lapses, and stopped. Lease expiry is computed
 * from the clock on every call (no timers), so a ManualClock decides it.
 *
 * Choices where the protocol document says "unconfirmed": `active` is entered on the first successful
 * heartbeat; a heartbeat before the ack is accepted (both orders); the default TTL is 60 s; `depth`
 * counts queued items and `pending` the acknowledged, not yet stopped ones.
 */
import {
  type HeartbeatPreconditionDetails,
  type HeartbeatQuery,
  type HeartbeatResponse,
  NO_HEARTBEAT,
  type PollQuery,
  type WorkQueueStats,
} from "../../../src/managed-agents/protocol.ts";
import type { StandInClock } from "./clock.ts";
import { ApiError, type IdSource, notFound } from "./http.ts";
import { iso, type WorkRecord } from "./work-record.ts";

export const DEFAULT_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 300;
const DEFAULT_RECLAIM_MS = 5000;
const MAX_ITEMS = 10_000;
/** A worker counts as polling for this long after its last poll. */
const POLLING_WINDOW_MS = 30_000;
const MAX_POLLERS_TRACKED = 1000;

/** A work item nobody holds: not handed out, not acknowledged, no heartbeat (new or requeued). */
const NO_LEASE = {
  acknowledgedAt: null,
  startedAt: null,
  handedOutAt: null,
  handedOutTo: null,
  lastHeartbeat: null,
  lastHeartbeatAt: null,
  leaseUpdatedAt: null,
  leaseExtended: false,
} satisfies Partial<WorkRecord>;

export class WorkQueue {
  #items = new Map<string, WorkRecord>();
  #wakers = new Map<string, Set<() => void>>();
  #pollers = new Map<string, Map<string, number>>();

  private readonly clock: StandInClock;
  private readonly ids: IdSource;

  constructor(clock: StandInClock, ids: IdSource) {
    this.clock = clock;
    this.ids = ids;
  }

  enqueue(environmentId: string, sessionId: string, secret: string | null, ttlSeconds: number): WorkRecord {
    if (this.#items.size >= MAX_ITEMS) throw new Error("stand-in work queue is full");
    const record: WorkRecord = {
      id: this.ids.make("work"),
      environmentId,
      sessionId,
      state: "queued",
      secret,
      metadata: {},
      createdAt: this.clock.now(),
      ...NO_LEASE,
      stopRequestedAt: null,
      stoppedAt: null,
      ttlSeconds,
      refuseExtension: false,
      requeues: 0,
    };
    this.#items.set(record.id, record);
    this.#wake(environmentId);
    return record;
  }

  /** A work item's record for the environment, or 404 (also for another environment's item). */
  find(environmentId: string, id: string): WorkRecord {
    this.#expireLeases();
    const record = this.#items.get(id);
    if (!record || record.environmentId !== environmentId) throw notFound(`work ${id}`);
    return record;
  }

  record(id: string): WorkRecord | undefined {
    this.#expireLeases();
    return this.#items.get(id);
  }

  async poll(
    environmentId: string,
    query: PollQuery,
    workerId: string,
    signal: AbortSignal,
  ): Promise<WorkRecord | null> {
    const pollers = this.#pollersOf(environmentId);
    pollers.delete(workerId);
    if (pollers.size >= MAX_POLLERS_TRACKED) pollers.delete(pollers.keys().next().value ?? "");
    pollers.set(workerId, this.clock.now());
    const reclaimMs = query.reclaim_older_than_ms ?? DEFAULT_RECLAIM_MS;
    const deadline = this.clock.now() + (query.block_ms ?? 0);
    // Look, then wait for new work (another poller may take it first) until block_ms has passed.
    for (;;) {
      const found = this.#take(environmentId, reclaimMs, workerId);
      const remaining = deadline - this.clock.now();
      if (found || remaining <= 0 || signal.aborted) return found;
      const woken = new AbortController();
      const wakers = this.#wakersOf(environmentId);
      const wake = () => woken.abort();
      wakers.add(wake);
      try {
        await this.clock.sleep(remaining, AbortSignal.any([signal, woken.signal])).catch(() => {});
      } finally {
        wakers.delete(wake);
      }
      if (signal.aborted) return null;
    }
  }

  ack(environmentId: string, id: string): WorkRecord {
    const record = this.find(environmentId, id);
    if (record.state === "stopping" || record.state === "stopped") {
      throw new ApiError(409, "invalid_request_error", `work ${id} is ${record.state}`);
    }
    if (record.state === "queued") {
      record.state = "starting";
      record.acknowledgedAt = this.clock.now();
      record.leaseUpdatedAt = this.clock.now();
    }
    return record;
  }

  heartbeat(environmentId: string, id: string, query: HeartbeatQuery): HeartbeatResponse {
    const record = this.find(environmentId, id);
    const current = record.lastHeartbeat ?? NO_HEARTBEAT;
    const neverHandedOut = record.state === "queued" && record.handedOutAt === null;
    if (query.expected_last_heartbeat !== current || neverHandedOut) {
      const details: HeartbeatPreconditionDetails = {
        error_code: "heartbeat_precondition_failed",
        current_state: {
          state: record.state,
          last_heartbeat: record.lastHeartbeat,
          lease_updated_at: iso(record.leaseUpdatedAt),
          lease_extended: record.leaseExtended,
          ttl_seconds: record.ttlSeconds,
        },
      };
      throw new ApiError(412, "invalid_request_error", "expected_last_heartbeat does not match", details);
    }
    if (record.state === "stopping" || record.state === "stopped" || record.refuseExtension) {
      record.leaseExtended = false;
      return this.#beat(record);
    }
    const now = this.clock.now();
    // Beats must differ even when the clock has not moved, or a stale echo would pass the CAS.
    const at = Math.max(now, (record.lastHeartbeatAt ?? 0) + 1);
    record.lastHeartbeatAt = at;
    record.lastHeartbeat = new Date(at).toISOString();
    record.leaseUpdatedAt = now;
    record.leaseExtended = true;
    if (query.desired_ttl_seconds !== undefined)
      record.ttlSeconds = Math.min(query.desired_ttl_seconds, MAX_TTL_SECONDS);
    if (record.state === "queued" || record.state === "starting") {
      record.state = "active";
      record.startedAt = now;
    }
    return this.#beat(record);
  }

  stop(environmentId: string, id: string, force: boolean): WorkRecord {
    const record = this.find(environmentId, id);
    if (record.state === "stopped") throw new ApiError(409, "invalid_request_error", `work ${id} is already stopped`);
    const now = this.clock.now();
    record.stopRequestedAt ??= now;
    if (force) {
      record.state = "stopped";
      record.stoppedAt = now;
    } else {
      record.state = "stopping";
    }
    record.leaseExtended = false;
    return record;
  }

  /** What an operator's stop does: the worker sees `stopping` on its next heartbeat. */
  requestStop(id: string): void {
    const record = this.#items.get(id);
    if (!record || record.state === "stopped") return;
    record.state = "stopping";
    record.stopRequestedAt ??= this.clock.now();
  }

  stats(environmentId: string): WorkQueueStats {
    this.#expireLeases();
    const items = [...this.#items.values()].filter((item) => item.environmentId === environmentId);
    const queued = items.filter((item) => item.state === "queued");
    const oldest = Math.min(...queued.map((item) => item.createdAt));
    const since = this.clock.now() - POLLING_WINDOW_MS;
    const polling = [...this.#pollersOf(environmentId).values()].filter((at) => at >= since).length;
    return {
      type: "work_queue_stats",
      depth: queued.length,
      pending: items.filter((item) => ["starting", "active", "stopping"].includes(item.state)).length,
      oldest_queued_at: queued.length > 0 ? iso(oldest) : null,
      workers_polling: polling,
    };
  }

  list(environmentId: string): WorkRecord[] {
    this.#expireLeases();
    return [...this.#items.values()].filter((item) => item.environmentId === environmentId);
  }

  /** How many polls are waiting for work right now. */
  get waitingPolls(): number {
    let count = 0;
    for (const wakers of this.#wakers.values()) count += wakers.size;
    return count;
  }

  /** Unblocks every waiting poll (the server is closing). */
  wakeAll(): void {
    for (const environmentId of this.#wakers.keys()) this.#wake(environmentId);
  }

  #take(environmentId: string, reclaimMs: number, workerId: string): WorkRecord | null {
    this.#expireLeases();
    const now = this.clock.now();
    for (const record of this.#items.values()) {
      if (record.environmentId !== environmentId || record.state !== "queued") continue;
      if (record.handedOutAt !== null && now - record.handedOutAt < reclaimMs) continue;
      record.handedOutAt = now;
      record.handedOutTo = workerId;
      return record;
    }
    return null;
  }

  #beat(record: WorkRecord): HeartbeatResponse {
    return {
      type: "work_heartbeat",
      last_heartbeat: record.lastHeartbeat ?? NO_HEARTBEAT,
      lease_extended: record.leaseExtended,
      state: record.state,
      ttl_seconds: record.ttlSeconds,
    };
  }

  /** No beat within the TTL: the item goes back to the queue for any worker, as if never handed out. */
  #expireLeases(): void {
    const now = this.clock.now();
    for (const record of this.#items.values()) {
      if (record.state !== "starting" && record.state !== "active") continue;
      if (record.leaseUpdatedAt === null || now - record.leaseUpdatedAt <= record.ttlSeconds * 1000) continue;
      Object.assign(record, {
        state: "queued",
        ...NO_LEASE,
        requeues: record.requeues + 1,
      } satisfies Partial<WorkRecord>);
      this.#wake(record.environmentId);
    }
  }

  #wake(environmentId: string): void {
    for (const wake of this.#wakers.get(environmentId) ?? []) wake();
  }

  #wakersOf(environmentId: string): Set<() => void> {
    const set = this.#wakers.get(environmentId) ?? new Set<() => void>();
    this.#wakers.set(environmentId, set);
    return set;
  }

  #pollersOf(environmentId: string): Map<string, number> {
    const map = this.#pollers.get(environmentId) ?? new Map<string, number>();
    this.#pollers.set(environmentId, map);
    return map;
  }
}

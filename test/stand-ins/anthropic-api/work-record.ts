/** A work item as the stand-in keeps it, and its wire shape. */
import type { WorkState } from "../../../src/managed-agents/protocol.ts";

export interface WorkRecord {
  id: string;
  environmentId: string;
  sessionId: string;
  state: WorkState;
  secret: string | null;
  metadata: Record<string, string>;
  createdAt: number;
  acknowledgedAt: number | null;
  startedAt: number | null;
  stopRequestedAt: number | null;
  stoppedAt: number | null;
  /** When a poll last handed the item out while it was unacknowledged. */
  handedOutAt: number | null;
  handedOutTo: string | null;
  lastHeartbeat: string | null;
  lastHeartbeatAt: number | null;
  /** When the lease was last granted or renewed (the ack, then each beat). */
  leaseUpdatedAt: number | null;
  leaseExtended: boolean;
  ttlSeconds: number;
  /** Scripted: heartbeats answer `lease_extended: false` from now on. */
  refuseExtension: boolean;
  /** How many times the item went back to the queue because its lease lapsed. */
  requeues: number;
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The wire shape of a work item. */
export function workJson(record: WorkRecord) {
  return {
    type: "work" as const,
    id: record.id,
    environment_id: record.environmentId,
    data: { type: "session" as const, id: record.sessionId },
    state: record.state,
    secret: record.secret,
    metadata: record.metadata,
    created_at: iso(record.createdAt),
    acknowledged_at: iso(record.acknowledgedAt),
    started_at: iso(record.startedAt),
    latest_heartbeat_at: iso(record.lastHeartbeatAt),
    stop_requested_at: iso(record.stopRequestedAt),
    stopped_at: iso(record.stoppedAt),
  };
}

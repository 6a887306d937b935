/** What a runner shows its environment and operators (runner-contract.ts): no credential has a field. */

import { TRACE_LIMIT } from "../../src/managed-agents/runner/timings.ts";
import type {
  RunnerDetails,
  RunnerResources,
  RunnerSummary,
  RunnerToolCall,
} from "../../src/managed-agents/runner-contract.ts";
import { sessionSandboxId } from "../../src/managed-agents/runner-contract.ts";
import type { CallRow, RunnerStore, WorkRow } from "./store.ts";

export function runnerSummary(store: RunnerStore, row: WorkRow): RunnerSummary {
  const counts = store.counts();
  return {
    workId: row.work_id,
    sessionId: row.session_id,
    environment: store.environment(row).name,
    state: row.state,
    sandboxId: sessionSandboxId(row.session_id),
    lease: { lastHeartbeat: row.last_heartbeat, lastHeartbeatAt: row.last_heartbeat_at, ttlSeconds: row.ttl_seconds },
    toolCallsAnswered: counts.answered,
    pendingConfirmations: counts.pending,
    lastError: row.last_error,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
  };
}

export function runnerDetails(store: RunnerStore, row: WorkRow, resources: RunnerResources | null): RunnerDetails {
  return { ...runnerSummary(store, row), toolCalls: store.recentCalls(TRACE_LIMIT).map(toolCall), resources };
}

function toolCall(row: CallRow): RunnerToolCall {
  return {
    toolUseId: row.tool_use_id,
    tool: row.name,
    permission: row.permission,
    pending: row.status === "held" && row.answered === 0,
    outcome: row.outcome,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    postedAt: row.posted_at,
  };
}

/**
 * The seam between an environment's Durable Object (`ManagedEnvironment`, one per environment
 * name: configuration, webhook, polling, the count of live sessions) and a session runner
 * (`SessionRunner`, one per claimed work item, named by `runnerName`): what the environment hands
 * a runner when it claims work, and what a runner reports back and shows operators.
 *
 * Lifecycle: the environment polls a work item and calls `start(RunnerStart)` on the runner named
 * for it (idempotent: a second start of the same work id answers the runner's summary and changes
 * nothing). The runner acknowledges the work, keeps its lease, runs the session's tool calls and,
 * when the work ends for any reason, calls `runnerEnded(workId, summary)` on its environment
 * (at least once; the environment ignores repeats). `stop(reason)` ends the work from the
 * environment's side (environment deleted): no tool keeps running for it, nothing more is posted,
 * and the work is stopped with `force: true`. `rotateKey` hands a runner the environment's new key.
 */
import type { EnvironmentConfig } from "./environment-config.ts";
import type { Work } from "./protocol.ts";

/** A runner's Durable Object name: the environment and the work id it serves. */
export function runnerName(environmentName: string, workId: string): string {
  return `${environmentName}/${workId}`;
}

/**
 * One session's sandbox id (sandbox ids allow [A-Za-z0-9_-]{1,64}): every work item of the same
 * session uses the same sandbox, so the session's files survive between its work items.
 */
export function sessionSandboxId(sessionId: string): string {
  return `ma_${sessionId.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
}

export interface RunnerStart {
  environment: EnvironmentConfig;
  /** The environment key (write-only: kept in the runner's storage, never shown). */
  environmentKey: string;
  /** The work item as the poll answered it (its `secret` included). */
  work: Work;
}

export type RunnerState =
  /** Acknowledging, first heartbeat, sandbox, skills and memory. */
  | "starting"
  /** Following the session's events and answering tool uses. */
  | "running"
  /** Finishing: final memory sync, stopping the work item. */
  | "ending"
  | "ended";

export type ToolCallOutcome =
  | "ok"
  | "error"
  /** `deny`, or `ask` answered deny: nothing ran, nothing was posted. */
  | "denied"
  /** Running when the runner was evicted; reported as interrupted instead of silently re-run. */
  | "interrupted"
  /** The work was no longer ours (lease lost, stopping): nothing was posted. */
  | "abandoned";

export interface RunnerToolCall {
  toolUseId: string;
  tool: string;
  /** `evaluated_permission` as it came (`allow` when absent). */
  permission: string;
  /** Waiting for a `user.tool_confirmation`. */
  pending: boolean;
  outcome: ToolCallOutcome | null;
  startedAt: number | null;
  durationMs: number | null;
  postedAt: number | null;
}

export interface RunnerSummary {
  workId: string;
  sessionId: string;
  environment: string;
  state: RunnerState;
  sandboxId: string;
  lease: {
    lastHeartbeat: string | null;
    lastHeartbeatAt: number | null;
    ttlSeconds: number | null;
  };
  toolCallsAnswered: number;
  pendingConfirmations: number;
  lastError: string | null;
  startedAt: number;
  endedAt: number | null;
  /** Why the work ended (`end_turn idle`, `terminated`, `lease lost`, `environment deleted`, …). */
  endReason: string | null;
}

/** What the runner set up in the sandbox for the session (protocol §6): failures never end the work. */
export interface RunnerResources {
  skills: {
    skillId: string;
    /** The concrete version when installed, else as the session asked for it. */
    version: string;
    ok: boolean;
    /** Where it was installed (/workspace/skills/<name>). */
    path?: string;
    error?: string;
  }[];
  memoryStores: {
    storeId: string;
    path: string;
    access: "read_write" | "read_only";
    lastSyncAt: number | null;
    /** The last sync's failure for this store (null once a sync went through). */
    error: string | null;
  }[];
  /** Why the session's memory stores were not mounted (no sessions token), else null. */
  memorySkipped: string | null;
  /** Skills removed and memory finally synced (or not, the lease being lost) at the end of the work. */
  released: boolean;
}

export interface RunnerDetails extends RunnerSummary {
  /** Tool calls, newest last (bounded). */
  toolCalls: RunnerToolCall[];
  /** Null until the runner has prepared them. */
  resources: RunnerResources | null;
}

/** What a session runner's Durable Object offers its environment and the admin views. */
export interface SessionRunnerRpc {
  start(start: RunnerStart): Promise<RunnerSummary>;
  stop(reason: string): Promise<void>;
  rotateKey(environmentKey: string): Promise<void>;
  summary(): RunnerSummary | null;
  details(): RunnerDetails | null;
}

/** What an environment's Durable Object offers its runners. */
export interface EnvironmentRunnerRpc {
  runnerEnded(workId: string, summary: RunnerSummary): Promise<void>;
  /** The API refused the environment's credentials (401/403): the environment shows it unhealthy. */
  credentialsRefused(status: number, message: string): Promise<void>;
}

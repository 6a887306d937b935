/**
 * What a session runner sets up in the sandbox before it follows the session, and takes down after:
 * the agent's skills (under /workspace/skills) and the session's memory stores (mounted, downloaded,
 * then synced by the runner on MEMORY_SYNC_INTERVAL_MS). Nothing here ends the session: a skill or
 * store that fails is reported and logged, and the session runs without it.
 *
 * Credentials: skills use the work's sessions token when the work carried one, else the
 * environment key; memory needs the sessions token (the memory endpoints refuse the environment
 * key), so without one memory is skipped with a log line. Neither is ever logged or returned.
 */
import type { ApiCredentials, RetryPolicy } from "./api-client.ts";
import { MemorySync, type MemorySyncReport } from "./memory/memory-sync.ts";
import type { BaselineStore } from "./memory/store-sync.ts";
import type { MemoryStoreResource, Session } from "./protocol.ts";
import type { ResourceLog, SandboxFiles } from "./sandbox-files.ts";
import type { ArchiveLimits } from "./skills/archive-members.ts";
import { installSkills, removeSkills, type SkillsReport } from "./skills/install-skills.ts";

export interface SessionApiAccess {
  /** The API base (the work secret's `api_base_url` when it gives one). */
  baseUrl: string;
  environmentKey: string;
  /** The work secret's `sessions_token`; null when the work carried no secret. */
  sessionsToken: string | null;
  retry?: RetryPolicy;
  signal?: AbortSignal;
}

export interface SessionResources {
  skills: SkillsReport;
  memory: MemorySync | null;
  /** What the first download did (null when memory is skipped or the session has no store). */
  memoryReport: MemorySyncReport | null;
  /** Sandbox roots outside the workdir the session's tools may use (the memory mounts). */
  extraRoots: string[];
}

export interface PrepareOptions {
  api: SessionApiAccess;
  session: Session;
  files: SandboxFiles;
  log: ResourceLog;
  archiveLimits?: ArchiveLimits;
  /** Where the memory sync keeps its baselines beyond this instance. */
  baseline?: BaselineStore;
}

export async function prepareSessionResources(options: PrepareOptions): Promise<SessionResources> {
  const { api, session } = options;
  const skillCredentials: ApiCredentials = { baseUrl: api.baseUrl, bearer: api.sessionsToken ?? api.environmentKey };
  const skills = await installSkills({
    credentials: skillCredentials,
    skills: session.agent.skills ?? [],
    files: options.files,
    log: options.log,
    ...(options.archiveLimits ? { limits: options.archiveLimits } : {}),
    ...(api.signal ? { signal: api.signal } : {}),
    ...(api.retry ? { retry: api.retry } : {}),
  });
  const memory = mountMemory({ ...options, stores: memoryStoresOf(session) });
  const memoryReport = memory ? await memory.sync() : null;
  return { skills, memory, memoryReport, extraRoots: memory?.mounts.map((mount) => mount.path) ?? [] };
}

/** The session's memory store resources. */
export function memoryStoresOf(session: Session): MemoryStoreResource[] {
  return (session.resources ?? []).filter(
    (resource): resource is MemoryStoreResource => resource.type === "memory_store",
  );
}

/**
 * The stores mounted without a sync (null: none, or skipped for want of a sessions token): what
 * `prepareSessionResources` starts from, and what a runner resumed after an eviction takes up
 * again (its skills are already in the sandbox; `baseline` holds where the sync had got to).
 */
export function mountMemory(options: {
  api: SessionApiAccess;
  stores: readonly MemoryStoreResource[];
  files: SandboxFiles;
  log: ResourceLog;
  baseline?: BaselineStore;
}): MemorySync | null {
  const { api, stores, log } = options;
  if (stores.length === 0) return null;
  if (api.sessionsToken === null) {
    log(
      `memory: ${stores.length} memory store(s) skipped: the work carried no sessions token and the memory endpoints refuse the environment key`,
    );
    return null;
  }
  return MemorySync.mount({
    credentials: { baseUrl: api.baseUrl, bearer: api.sessionsToken },
    stores,
    files: options.files,
    log,
    ...(api.retry ? { retry: api.retry } : {}),
    ...(api.signal ? { signal: api.signal } : {}),
    ...(options.baseline ? { baseline: options.baseline } : {}),
  });
}

/**
 * At the end of the work: the final memory sync (bounded, see MemorySync.final), then the skills
 * removed. Answers the final sync's report (null: no memory, or it did not finish in time).
 */
export async function releaseSessionResources(options: {
  resources: SessionResources;
  files: SandboxFiles;
  log: ResourceLog;
  finalSyncTimeoutMs?: number;
}): Promise<{ memory: MemorySyncReport | null }> {
  const memory = options.resources.memory ? await options.resources.memory.final(options.finalSyncTimeoutMs) : null;
  await removeSkills(options.files, options.resources.skills, options.log);
  return { memory };
}

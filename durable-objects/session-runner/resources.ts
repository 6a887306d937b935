/**
 * A runner's hold on the session's skills and memory stores (src/managed-agents/session-resources.ts)
 * in the session's sandbox, reached as the admin over the Sandbox RPCs (sandbox-files-over-rpc.ts).
 *
 * Lifecycle: `prepare` (setup, after the sandbox and the session, before the events are followed)
 * installs the skills, mounts the stores and downloads them, and records what it did
 * (./resources-store.ts). The alarm calls `tick` after its heartbeat: a memory sync is started
 * when one is due (every MEMORY_SYNC_INTERVAL_MS) and none is running, and is never awaited there,
 * so a slow sync never holds a beat back. After an eviction `resume` mounts the stores again with
 * the saved baselines (the skills are still in the sandbox). `release`, at the end of the work and
 * before the force-stop, runs the bounded final sync, unless the lease was lost (then nothing more
 * is written remotely), and removes the skills; it is done once, whatever instance gets there.
 *
 * Memory holds only the live MemorySync of this instance and whether a sync is running.
 */
import { type MemorySync, memorySyncIntervalMs } from "../../src/managed-agents/memory/memory-sync.ts";
import type { MemoryStoreResource, Session } from "../../src/managed-agents/protocol.ts";
import { type RunnerCredentialSource, workCredentials } from "../../src/managed-agents/runner/credentials.ts";
import type { RunnerResources as ResourcesView } from "../../src/managed-agents/runner-contract.ts";
import type { SandboxFiles } from "../../src/managed-agents/sandbox-files.ts";
import { sandboxFilesOverRpc } from "../../src/managed-agents/sandbox-files-over-rpc.ts";
import {
  memoryStoresOf,
  mountMemory,
  prepareSessionResources,
  releaseSessionResources,
  type SessionApiAccess,
} from "../../src/managed-agents/session-resources.ts";
import { removeSkills } from "../../src/managed-agents/skills/install-skills.ts";
import type { Env } from "../../workers/env.ts";
import type { Sandbox } from "../sandbox.ts";
import { ResourcesStore } from "./resources-store.ts";
import { sessionSandbox } from "./sandbox-setup.ts";
import type { RunnerStore } from "./store.ts";

export interface ResourceAccess {
  sandbox: DurableObjectStub<Sandbox>;
  /** The work's credentials (skills take the sessions token or the key; memory the token only). */
  credentials: RunnerCredentialSource;
  /** The work's signal: aborted when the work ends. */
  signal: AbortSignal;
  /** The runner's log prefix (the session id: never a credential). */
  label: string;
}

/** What the session's skills and memory are reached with: its sandbox, the work's credentials. */
export function resourceAccess(env: Env, store: RunnerStore, signal: AbortSignal): ResourceAccess {
  const row = store.load();
  if (!row) throw new Error("the session runner holds no work");
  return {
    sandbox: sessionSandbox(env, row.session_id),
    credentials: store.credentials(),
    signal,
    label: row.session_id,
  };
}

export class RunnerResources {
  readonly #store: ResourcesStore;
  #memory: MemorySync | null = null;
  #syncing = false;
  #lastSyncStarted = 0;

  constructor(sql: SqlStorage) {
    this.#store = new ResourcesStore(sql);
  }

  /** Installs the skills, mounts and downloads the stores: answers the extra roots the tools may use. */
  async prepare(session: Session, access: ResourceAccess): Promise<string[]> {
    const resources = await prepareSessionResources({
      api: apiOf(access),
      session,
      files: filesOf(access),
      log: logTo(access.label),
      baseline: this.#store.baseline,
    });
    if (access.signal.aborted) {
      // The work ended meanwhile and its ending found nothing to release: the skills go again.
      await removeSkills(filesOf(access), resources.skills, logTo(access.label));
      return [];
    }
    this.#memory = resources.memory;
    this.#lastSyncStarted = Date.now();
    const stores = memoryStoresOf(session);
    const skipped =
      stores.length > 0 && access.credentials.sessionsToken === null
        ? "the work carried no sessions token and the memory endpoints refuse the environment key"
        : null;
    this.#store.prepared(resources.skills, stores, resources.memory?.mounts ?? [], skipped);
    if (resources.memoryReport) this.#recordSync(resources.memoryReport.failedStores);
    return resources.extraRoots;
  }

  /** After an eviction: the stores mounted again, with their saved baselines (no I/O here). */
  #resume(access: ResourceAccess): void {
    const row = this.#store.load();
    if (this.#memory || !row || row.released || row.mounts.length === 0) return;
    this.#memory = this.#mount(row.stores, access);
    // The next tick syncs at once: whatever changed while no instance watched is taken up.
    this.#lastSyncStarted = 0;
  }

  /** When the next memory sync is due (null: no memory in this instance). */
  nextSyncAt(): number | null {
    if (!this.#memory) return null;
    return this.#lastSyncStarted + memorySyncIntervalMs();
  }

  /** The runner's next alarm: `other` (its beat or idle exit) or the next sync, not under 1 s away. */
  nextAlarmAt(other: number, now = Date.now()): number {
    const sync = this.nextSyncAt();
    return sync === null ? other : Math.min(other, Math.max(sync, now + 1000));
  }

  /**
   * From the alarm, after its heartbeat: the stores mounted again if this instance has none (after
   * an eviction), then a memory sync started when one is due and none runs; never awaited.
   */
  tick(access: ResourceAccess, now = Date.now()): void {
    this.#resume(access);
    const due = this.nextSyncAt();
    const memory = this.#memory;
    if (!memory || due === null || now < due || this.#syncing) return;
    this.#syncing = true;
    this.#lastSyncStarted = now;
    memory
      .sync()
      .then((report) => this.#recordSync(report.failedStores))
      .catch(() => {})
      .finally(() => {
        this.#syncing = false;
      });
  }

  /** The lease is lost (412, not extended, stopping, lapsed, refused): nothing more is pushed. */
  leaseLost(): void {
    this.#memory?.close();
    this.#store.forbidFinalPush();
  }

  /**
   * The end of the work: the bounded final sync when `push` and the lease was not lost, then the skills
   * removed. Done once; a later call (another instance, a retry of the ending) does nothing.
   */
  async release(push: boolean, access: ResourceAccess): Promise<void> {
    const row = this.#store.load();
    if (!row || row.released) return;
    const log = logTo(access.label);
    let memory = this.#memory;
    this.#memory = null;
    if (!push || !row.finalPush) {
      memory?.close();
      memory = null;
      if (row.mounts.length > 0) log("memory: the lease was lost; no final sync (nothing more is written remotely)");
    } else if (!memory && row.mounts.length > 0) {
      memory = this.#mount(row.stores, access);
    }
    const report = await releaseSessionResources({
      resources: { skills: row.skills, memory, memoryReport: null, extraRoots: [] },
      files: filesOf(access),
      log,
    });
    if (report.memory) this.#recordSync(report.memory.failedStores);
    this.#store.released();
  }

  view(): ResourcesView | null {
    const row = this.#store.load();
    if (!row) return null;
    return {
      skills: [
        ...row.skills.installed.map((s) => ({ skillId: s.skillId, version: s.version, ok: true, path: s.path })),
        ...row.skills.failed.map((s) => ({ skillId: s.skillId, version: s.version, ok: false, error: s.error })),
      ],
      memoryStores: row.mounts.map((mount) => ({
        storeId: mount.storeId,
        path: mount.path,
        access: mount.access,
        lastSyncAt: row.lastSyncAt,
        error: row.syncErrors[mount.storeId] ?? null,
      })),
      memorySkipped: row.memorySkipped,
      released: row.released,
    };
  }

  /** New work under the same name: nothing of the last one is kept. */
  wipe(): void {
    this.#memory?.close();
    this.#memory = null;
    this.#store.wipe();
  }

  #mount(stores: MemoryStoreResource[], access: ResourceAccess): MemorySync | null {
    return mountMemory({
      api: apiOf(access),
      stores,
      files: filesOf(access),
      log: logTo(access.label),
      baseline: this.#store.baseline,
    });
  }

  #recordSync(failed: { storeId: string; error: string }[]): void {
    this.#store.synced(Date.now(), Object.fromEntries(failed.map((f) => [f.storeId, f.error])));
  }
}

function apiOf(access: ResourceAccess): SessionApiAccess {
  const source = access.credentials;
  return {
    baseUrl: workCredentials(source).baseUrl,
    environmentKey: source.environmentKey,
    sessionsToken: source.sessionsToken,
    signal: access.signal,
  };
}

function filesOf(access: ResourceAccess): SandboxFiles {
  return sandboxFilesOverRpc(access.sandbox, { kind: "admin" });
}

function logTo(label: string): (line: string) => void {
  return (line) => console.log(`session runner ${label}: ${line}`);
}

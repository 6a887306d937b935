/**
 * A session's memory stores, mounted in its sandbox and kept in step with the API (rules per store
 * in ./store-sync.ts). Lifecycle: `open` mounts every store and downloads it (the first sync;
 * `mount` alone, for a runner that resumes after an eviction with its saved baselines); the
 * runner then calls `sync()` every MEMORY_SYNC_INTERVAL_MS (never more often than
 * MEMORY_SYNC_MIN_INTERVAL_MS) and `final()` once at the end of the work, bounded by
 * MEMORY_FINAL_SYNC_TIMEOUT_MS; after `final` every `sync()` is a no-op. Syncs never overlap: a call
 * made while one runs waits for it and then runs one more (shared by every call made meanwhile).
 * One store's failure is logged and
 * reported; the others go on, and the failed one is tried again at the next sync.
 *
 * Access: only `read_write` pushes. Any other value, or none, is treated as `read_only` (never write
 * what the session did not clearly allow; the API would refuse it anyway).
 *
 * The calls need the work's sessions token (`credentials.bearer`); the environment key is refused by
 * the memory endpoints, so the caller skips memory altogether without one.
 */
import type { ApiCredentials, RetryPolicy } from "../api-client.ts";
import type { MemoryStoreResource } from "../protocol.ts";
import type { ResourceLog, SandboxFiles } from "../sandbox-files.ts";
import { mountPathOf } from "./memory-paths.ts";
import { type BaselineStore, StoreSync, type SyncCounts } from "./store-sync.ts";

export const MEMORY_SYNC_INTERVAL_MS = 15_000;
export const MEMORY_SYNC_MIN_INTERVAL_MS = 5_000;
export const MEMORY_FINAL_SYNC_TIMEOUT_MS = 30_000;

/** The interval the runner uses: the default, or a requested one no shorter than the minimum. */
export function memorySyncIntervalMs(requestedMs?: number): number {
  return Math.max(MEMORY_SYNC_MIN_INTERVAL_MS, requestedMs ?? MEMORY_SYNC_INTERVAL_MS);
}

export interface MemoryMount {
  storeId: string;
  path: string;
  access: "read_write" | "read_only";
}

export interface MemorySyncReport extends SyncCounts {
  failedStores: { storeId: string; error: string }[];
}

export interface MemorySyncOptions {
  /** Base URL and the work's sessions token. */
  credentials: ApiCredentials;
  stores: readonly MemoryStoreResource[];
  files: SandboxFiles;
  log: ResourceLog;
  retry?: RetryPolicy;
  /** Where the baselines outlive this instance (see ./store-sync.ts); in memory only without it. */
  baseline?: BaselineStore;
  /** Aborts the calls of every sync but the final one (which has its own bound): the work is over. */
  signal?: AbortSignal;
}

export class MemorySync {
  readonly #stores: StoreSync[];
  readonly #options: MemorySyncOptions;
  /** The sync under way, and the one waiting for it (at most one: later calls share it). */
  #running: Promise<MemorySyncReport> | null = null;
  #next: Promise<MemorySyncReport> | null = null;
  #closed = false;

  private constructor(options: MemorySyncOptions, stores: StoreSync[]) {
    this.#options = options;
    this.#stores = stores;
  }

  /** Mounts the stores and downloads them. */
  static async open(options: MemorySyncOptions): Promise<{ sync: MemorySync; report: MemorySyncReport }> {
    const sync = MemorySync.mount(options);
    return { sync, report: await sync.sync() };
  }

  /** Mounts the stores without a sync (no I/O): the first `sync()` downloads. */
  static mount(options: MemorySyncOptions): MemorySync {
    const stores: StoreSync[] = [];
    for (const resource of options.stores) {
      const mount = mountPathOf(resource);
      const clash = stores.find(
        (s) => s.mount === mount || s.mount.startsWith(`${mount}/`) || mount.startsWith(`${s.mount}/`),
      );
      if (clash) {
        options.log(
          `memory store ${resource.memory_store_id} not mounted: ${mount} overlaps the mount of ${clash.storeId}`,
        );
        continue;
      }
      const writable = resource.access === "read_write";
      if (!writable && resource.access !== "read_only") {
        options.log(
          `memory store ${resource.memory_store_id}: access ${JSON.stringify(resource.access ?? null)} is treated as read_only`,
        );
      }
      stores.push(new StoreSync(resource.memory_store_id, mount, writable, options.baseline));
      options.log(
        `memory store ${resource.memory_store_id} mounted at ${mount} (${writable ? "read_write" : "read_only"})`,
      );
    }
    return new MemorySync(options, stores);
  }

  get mounts(): MemoryMount[] {
    return this.#stores.map((s) => ({
      storeId: s.storeId,
      path: s.mount,
      access: s.writable ? "read_write" : "read_only",
    }));
  }

  /**
   * One pass over every store. While one runs, the call waits for it and then runs once more
   * (calls made meanwhile share that pass, so a slow store never piles syncs up). After `final`,
   * an empty report at once.
   */
  sync(): Promise<MemorySyncReport> {
    if (this.#closed) return Promise.resolve(emptyReport());
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start(undefined);
    const next = this.#running
      .catch(() => {})
      .then(() => {
        this.#next = null;
        return this.#closed ? emptyReport() : this.#start(undefined);
      });
    this.#next = next;
    return next;
  }

  /**
   * The last sync, bounded: answers its report, or null when it did not finish in time (what it
   * had done stays done; the rest is logged as not synced). Later `sync()` calls do nothing.
   */
  async final(timeoutMs = MEMORY_FINAL_SYNC_TIMEOUT_MS): Promise<MemorySyncReport | null> {
    if (this.#closed) return null;
    const controller = new AbortController();
    const before = this.#running;
    this.#closed = true;
    const run = (before ? before.catch(() => {}) : Promise.resolve()).then(() => this.#start(controller.signal));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error(`final memory sync did not finish within ${timeoutMs} ms`));
        resolve(null);
      }, timeoutMs);
    });
    try {
      const report = await Promise.race([run, timedOut]);
      if (report === null)
        this.#options.log(`memory: final sync did not finish within ${timeoutMs} ms; later changes are not saved`);
      return report;
    } finally {
      clearTimeout(timer);
    }
  }

  /** No more syncs, not even a final one (the lease was lost: nothing more may be written remotely). */
  close(): void {
    this.#closed = true;
  }

  #start(signal: AbortSignal | undefined): Promise<MemorySyncReport> {
    const run: Promise<MemorySyncReport> = this.#syncAll(signal).finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }

  async #syncAll(finalSignal: AbortSignal | undefined): Promise<MemorySyncReport> {
    const report = emptyReport();
    const signal = finalSignal ?? this.#options.signal;
    const calls = {
      credentials: this.#options.credentials,
      ...(signal ? { signal } : {}),
      ...(this.#options.retry ? { retry: this.#options.retry } : {}),
    };
    for (const store of this.#stores) {
      try {
        await store.sync({ calls, files: this.#options.files, log: this.#options.log, counts: report });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        report.failedStores.push({ storeId: store.storeId, error: message });
        this.#options.log(`memory store ${store.storeId} not synced: ${message}`);
        if (signal?.aborted) break;
      }
    }
    return report;
  }
}

function emptyReport(): MemorySyncReport {
  return { pushed: 0, pulled: 0, deleted: 0, conflicts: [], failedStores: [] };
}

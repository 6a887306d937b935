/**
 * One memory store kept in step with its mount in the sandbox: a three-way comparison per path of
 * the local file, the remote memory and the baseline (what both sides held at the last sync).
 *
 * - Only one side changed: that side's change goes to the other (write, create, update, delete).
 *   Updates carry the baseline's `content_sha256` as a precondition, so a remote change made
 *   between our list and our update is never overwritten.
 * - Both changed, differently (or the precondition failed): remote wins the path, and the local
 *   content is kept beside it as `<file>.conflict-<n>` (lowest free n), which is itself pushed as a
 *   new memory on a read_write store, so neither side's work is lost. A local delete against a
 *   remote change loses to it (the file comes back); a local change against a remote delete is
 *   pushed again as a new memory.
 * - read_only stores are never written remotely: remote changes come down, local edits stay local,
 *   and a local edit a remote change would overwrite is kept as a conflict copy (local only).
 * - A first sync has no baseline, so files already in the mount (an earlier work item of the same
 *   session) count as local creations and different content on both sides as a conflict.
 *
 * State: the baseline per path — memory id, SHA-256 of the agreed content, and the file's
 * size/mtime when it was known to hold it (so unchanged files are not re-read; a file modified
 * within RACY_MS of the listing is always re-read, as git does for racy entries). Kept in memory
 * and, when a `BaselineStore` is given, written through to it on every change: a new instance
 * (after an eviction) then resumes the three-way comparison instead of taking every file for a
 * local creation, which would push back memories deleted remotely meanwhile.
 */
import type { Memory } from "../protocol.ts";
import { joinPath, type ResourceLog, type SandboxFileInfo, type SandboxFiles } from "../sandbox-files.ts";
import { createMemory, deleteMemory, getMemory, listMemories, type MemoryCalls, updateMemory } from "./memory-api.ts";
import { conflictKey, memoryKey, sha256Hex } from "./memory-paths.ts";

/** The largest file pushed as a memory (a local bound; the API's own limit is not documented). */
export const MAX_MEMORY_FILE_BYTES = 4 * 1024 * 1024;
const RACY_MS = 2000;

export interface SyncCounts {
  pushed: number;
  pulled: number;
  deleted: number;
  /** Sandbox paths of conflict copies written. */
  conflicts: string[];
}

export interface SyncContext {
  calls: MemoryCalls;
  files: SandboxFiles;
  log: ResourceLog;
  counts: SyncCounts;
}

export interface Baseline {
  memoryId: string;
  sha: string;
  stat: { size: number; mtimeMs: number } | null;
}

/** Where baselines outlive an instance (the session runner's SQLite); calls are synchronous. */
export interface BaselineStore {
  load(storeId: string): Map<string, Baseline>;
  set(storeId: string, key: string, baseline: Baseline): void;
  delete(storeId: string, key: string): void;
}

interface LocalFile {
  info: SandboxFileInfo;
  sha: string;
  /** Read only when the stat did not prove the file unchanged. */
  bytes: Uint8Array<ArrayBuffer> | null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encode = (text: string) => new TextEncoder().encode(text);

export class StoreSync {
  readonly storeId: string;
  readonly mount: string;
  readonly writable: boolean;
  readonly #baseline: Map<string, Baseline>;
  readonly #saved: BaselineStore | undefined;
  #warned = new Set<string>();

  constructor(storeId: string, mount: string, writable: boolean, saved?: BaselineStore) {
    this.storeId = storeId;
    this.mount = mount;
    this.writable = writable;
    this.#saved = saved;
    this.#baseline = saved?.load(storeId) ?? new Map();
  }

  async sync(context: SyncContext): Promise<void> {
    const listedAt = Date.now();
    const remote = new Map<string, Memory>();
    for (const memory of await listMemories(context.calls, this.storeId)) {
      const key = memoryKey(memory.path);
      if (key === null)
        this.#warnOnce(context, `bad:${memory.id}`, `memory ${memory.id} has a path that cannot be a file; skipped`);
      else remote.set(key, memory);
    }
    const local = new Map<string, SandboxFileInfo>();
    for (const info of await context.files.list(this.mount)) local.set(info.path.slice(this.mount.length + 1), info);
    const keys = [...new Set([...this.#baseline.keys(), ...remote.keys(), ...local.keys()])].sort();
    const taken = (key: string) => remote.has(key) || local.has(key) || this.#baseline.has(key);
    for (const key of keys) {
      await this.#reconcile(context, key, remote.get(key) ?? null, local.get(key), listedAt, taken);
    }
  }

  async #reconcile(
    context: SyncContext,
    key: string,
    remote: Memory | null,
    info: SandboxFileInfo | undefined,
    listedAt: number,
    taken: (key: string) => boolean,
  ): Promise<void> {
    const base = this.#baseline.get(key);
    const local = info ? await this.#readLocal(context, key, info, base) : null;
    const localSha = local?.sha ?? null;
    const remoteSha = remote?.content_sha256 ?? null;
    const baseSha = base?.sha ?? null;
    if (localSha === remoteSha) {
      if (remote && local) this.#agree(key, remote.id, remote.content_sha256, local.info, listedAt);
      else this.#forget(key);
      return;
    }
    const localChanged = localSha !== baseSha;
    const remoteChanged = remoteSha !== baseSha;
    if (!localChanged) return this.#pull(context, key, remote);
    if (!remoteChanged) {
      if (this.writable) await this.#push(context, key, base, remote, local, listedAt, taken);
      return;
    }
    await this.#conflict(context, key, remote, local, listedAt, taken);
  }

  async #readLocal(
    context: SyncContext,
    key: string,
    info: SandboxFileInfo,
    base: Baseline | undefined,
  ): Promise<LocalFile | null> {
    if (base?.stat && base.stat.size === info.size && base.stat.mtimeMs === info.mtimeMs) {
      return { info, sha: base.sha, bytes: null };
    }
    const bytes = await context.files.get(joinPath(this.mount, key));
    if (bytes === null) return null; // gone since the listing: a delete
    const copy = new Uint8Array(bytes);
    return { info, sha: await sha256Hex(copy), bytes: copy };
  }

  /** Remote → local: write the memory's content, or remove the file when the memory is gone. */
  async #pull(context: SyncContext, key: string, remote: Memory | null): Promise<void> {
    const full =
      remote && remote.content === undefined ? await getMemory(context.calls, this.storeId, remote.id) : remote;
    if (!full) {
      await context.files.remove(joinPath(this.mount, key));
      this.#forget(key);
      context.counts.deleted++;
      return;
    }
    await context.files.put(joinPath(this.mount, key), encode(full.content ?? ""));
    this.#remember(key, { memoryId: full.id, sha: full.content_sha256, stat: null });
    context.counts.pulled++;
  }

  /** Local → remote, the remote side unchanged since the baseline. */
  async #push(
    context: SyncContext,
    key: string,
    base: Baseline | undefined,
    remote: Memory | null,
    local: LocalFile | null,
    listedAt: number,
    taken: (key: string) => boolean,
  ): Promise<void> {
    if (!local) {
      if (remote) await deleteMemory(context.calls, this.storeId, remote.id);
      this.#forget(key);
      context.counts.deleted++;
      return;
    }
    const content = await this.#contentOf(context, key, local);
    if (content === null) return;
    if (base && remote) {
      const updated = await updateMemory(context.calls, this.storeId, remote.id, content, base.sha);
      if (updated === "precondition_failed" || updated === "gone") {
        const current = updated === "gone" ? null : await getMemory(context.calls, this.storeId, remote.id);
        return this.#conflict(context, key, current, local, listedAt, taken);
      }
      this.#agree(key, updated.id, updated.content_sha256, local.info, listedAt);
      context.counts.pushed++;
      return;
    }
    const created = await createMemory(context.calls, this.storeId, { path: key, content });
    if (created === "exists") {
      const current = (await listMemories(context.calls, this.storeId)).find((m) => memoryKey(m.path) === key);
      if (!current) throw new Error(`memory store ${this.storeId} refused to create ${key} (409)`);
      return this.#conflict(context, key, current, local, listedAt, taken);
    }
    this.#agree(key, created.id, created.content_sha256, local.info, listedAt);
    context.counts.pushed++;
  }

  /** Both sides changed: remote wins the path; local content survives as a conflict copy. */
  async #conflict(
    context: SyncContext,
    key: string,
    remote: Memory | null,
    local: LocalFile | null,
    listedAt: number,
    taken: (key: string) => boolean,
  ): Promise<void> {
    if (remote === null) {
      // Deleted remotely, changed locally: keep the local file (pushed again on a writable store).
      this.#forget(key);
      if (local && this.writable) await this.#push(context, key, undefined, null, local, listedAt, taken);
      return;
    }
    if (local && local.sha !== remote.content_sha256) {
      const bytes = local.bytes ?? (await context.files.get(joinPath(this.mount, key)));
      if (bytes) {
        const copy = conflictKey(key, taken);
        await context.files.put(joinPath(this.mount, copy), bytes);
        context.counts.conflicts.push(joinPath(this.mount, copy));
        context.log(`memory ${this.storeId}: ${key} changed on both sides; the local version is kept as ${copy}`);
        if (this.writable) {
          const copyInfo = { ...local.info, path: joinPath(this.mount, copy) };
          const view = new Uint8Array(bytes);
          await this.#push(
            context,
            copy,
            undefined,
            null,
            { info: copyInfo, sha: await sha256Hex(view), bytes: view },
            0,
            taken,
          );
        }
      }
    }
    await this.#pull(context, key, remote);
  }

  /** The file's content as memory text, or null (logged once) when it cannot be one. */
  async #contentOf(context: SyncContext, key: string, local: LocalFile): Promise<string | null> {
    const bytes = local.bytes ?? (await context.files.get(joinPath(this.mount, key)));
    if (bytes === null) return null;
    if (bytes.byteLength > MAX_MEMORY_FILE_BYTES) {
      this.#warnOnce(
        context,
        `size:${key}:${local.sha}`,
        `memory ${this.storeId}: ${key} is larger than ${MAX_MEMORY_FILE_BYTES} bytes; not pushed`,
      );
      return null;
    }
    try {
      return utf8.decode(bytes);
    } catch {
      this.#warnOnce(
        context,
        `utf8:${key}:${local.sha}`,
        `memory ${this.storeId}: ${key} is not UTF-8 text; not pushed`,
      );
      return null;
    }
  }

  /** Both sides hold `sha`; the file's stat is trusted next time unless it was modified too recently. */
  #agree(key: string, memoryId: string, sha: string, info: SandboxFileInfo, listedAt: number): void {
    const stat = listedAt - info.mtimeMs > RACY_MS ? { size: info.size, mtimeMs: info.mtimeMs } : null;
    this.#remember(key, { memoryId, sha, stat });
  }

  #remember(key: string, baseline: Baseline): void {
    this.#baseline.set(key, baseline);
    this.#saved?.set(this.storeId, key, baseline);
  }

  #forget(key: string): void {
    this.#baseline.delete(key);
    this.#saved?.delete(this.storeId, key);
  }

  #warnOnce(context: SyncContext, id: string, line: string): void {
    if (this.#warned.has(id)) return;
    this.#warned.add(id);
    context.log(line);
  }
}

/**
 * The session's resources in a runner's store (see ./store.ts for the rest of the layout):
 *   runner_resources         one row once the skills were installed and the stores mounted: the
 *                            skills report (what to remove at the end), the memory store resources
 *                            and their mounts (to mount them again after an eviction), why memory
 *                            was skipped, the last sync's time and failures per store,
 *                            `final_push` cleared once the lease was lost (no final sync then),
 *                            `released` once the end of the work took them down.
 *   runner_memory_baseline   the memory sync's baseline per store and path (memory id, agreed
 *                            SHA-256, the file's size/mtime when known to hold it): what both sides
 *                            held at the last sync, so a runner resumed after an eviction keeps the
 *                            three-way comparison (a file deleted remotely is not pushed back).
 */
import type { MemoryMount } from "../../src/managed-agents/memory/memory-sync.ts";
import type { Baseline, BaselineStore } from "../../src/managed-agents/memory/store-sync.ts";
import type { MemoryStoreResource } from "../../src/managed-agents/protocol.ts";
import type { SkillsReport } from "../../src/managed-agents/skills/install-skills.ts";
import { all, ensureSchema, first, run } from "../../src/storage/sql.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS runner_resources (
    id INTEGER PRIMARY KEY CHECK (id = 1), skills TEXT NOT NULL, stores TEXT NOT NULL, mounts TEXT NOT NULL,
    memory_skipped TEXT, last_sync_at INTEGER, sync_errors TEXT NOT NULL DEFAULT '{}',
    final_push INTEGER NOT NULL DEFAULT 1, released INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS runner_memory_baseline (
    store_id TEXT NOT NULL, key TEXT NOT NULL, memory_id TEXT NOT NULL, sha TEXT NOT NULL,
    size INTEGER, mtime_ms REAL, PRIMARY KEY (store_id, key))`,
];

export interface ResourcesRow {
  skills: SkillsReport;
  stores: MemoryStoreResource[];
  mounts: MemoryMount[];
  memorySkipped: string | null;
  lastSyncAt: number | null;
  /** The last sync's failure per store id. */
  syncErrors: Record<string, string>;
  finalPush: boolean;
  released: boolean;
}

interface RawRow {
  skills: string;
  stores: string;
  mounts: string;
  memory_skipped: string | null;
  last_sync_at: number | null;
  sync_errors: string;
  final_push: number;
  released: number;
}

interface BaselineRow {
  key: string;
  memory_id: string;
  sha: string;
  size: number | null;
  mtime_ms: number | null;
}

export class ResourcesStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    ensureSchema(sql, SCHEMA);
  }

  load(): ResourcesRow | undefined {
    const row = first<RawRow>(this.#sql, "SELECT * FROM runner_resources WHERE id = 1");
    if (!row) return undefined;
    return {
      skills: JSON.parse(row.skills) as SkillsReport,
      stores: JSON.parse(row.stores) as MemoryStoreResource[],
      mounts: JSON.parse(row.mounts) as MemoryMount[],
      memorySkipped: row.memory_skipped,
      lastSyncAt: row.last_sync_at,
      syncErrors: JSON.parse(row.sync_errors) as Record<string, string>,
      finalPush: row.final_push === 1,
      released: row.released === 1,
    };
  }

  /** Replaces what an earlier (interrupted) setup of this work item recorded. */
  prepared(
    skills: SkillsReport,
    stores: MemoryStoreResource[],
    mounts: MemoryMount[],
    memorySkipped: string | null,
  ): void {
    run(
      this.#sql,
      `INSERT OR REPLACE INTO runner_resources (id, skills, stores, mounts, memory_skipped) VALUES (1, ?, ?, ?, ?)`,
      JSON.stringify(skills),
      JSON.stringify(stores),
      JSON.stringify(mounts),
      memorySkipped,
    );
  }

  synced(at: number, errors: Record<string, string>): void {
    run(
      this.#sql,
      "UPDATE runner_resources SET last_sync_at = ?, sync_errors = ? WHERE id = 1",
      at,
      JSON.stringify(errors),
    );
  }

  forbidFinalPush(): void {
    run(this.#sql, "UPDATE runner_resources SET final_push = 0 WHERE id = 1");
  }

  released(): void {
    run(this.#sql, "UPDATE runner_resources SET released = 1 WHERE id = 1");
  }

  wipe(): void {
    for (const table of ["runner_resources", "runner_memory_baseline"]) run(this.#sql, `DELETE FROM ${table}`);
  }

  /** The memory sync's baselines (memory/store-sync.ts), written through on every change. */
  readonly baseline: BaselineStore = {
    load: (storeId) => {
      const rows = all<BaselineRow>(
        this.#sql,
        "SELECT key, memory_id, sha, size, mtime_ms FROM runner_memory_baseline WHERE store_id = ?",
        storeId,
      );
      return new Map(rows.map((row): [string, Baseline] => [row.key, baselineOf(row)]));
    },
    set: (storeId, key, baseline) => {
      run(
        this.#sql,
        `INSERT OR REPLACE INTO runner_memory_baseline (store_id, key, memory_id, sha, size, mtime_ms)
          VALUES (?, ?, ?, ?, ?, ?)`,
        storeId,
        key,
        baseline.memoryId,
        baseline.sha,
        baseline.stat?.size ?? null,
        baseline.stat?.mtimeMs ?? null,
      );
    },
    delete: (storeId, key) => {
      run(this.#sql, "DELETE FROM runner_memory_baseline WHERE store_id = ? AND key = ?", storeId, key);
    },
  };
}

function baselineOf(row: BaselineRow): Baseline {
  const stat = row.size === null || row.mtime_ms === null ? null : { size: row.size, mtimeMs: row.mtime_ms };
  return { memoryId: row.memory_id, sha: row.sha, stat };
}

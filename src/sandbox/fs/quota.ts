/**
 * Usage accounting. Every stored byte counts toward the quota: file contents and symlink targets
 * (`bytes`), and what each entry costs beyond that (`overhead`: its row, its path in the row and in
 * the path index, its parent in the row and in the parent index, estimated by nodeOverhead), plus
 * what the sandbox keeps outside the tree (its shell state and tool-call trace), which the caller
 * passes in as `external` bytes. The counters live in fs_meta and move inside the same transaction
 * as the change they describe, so they never drift from the tree. A change that would end above the
 * quota throws before it commits, which rolls the whole change back: the previous content and the
 * counters stay as they were.
 */
import { TetherError } from "../../errors/tether-error.ts";
import { first, run } from "../../storage/sql.ts";
import { byteLength } from "./encoding.ts";

export const DEFAULT_QUOTA_BYTES = 256 * 1024 * 1024;

/**
 * What an entry's row costs besides its path and parent: rowid, type, mode, mtime, size, blob, the
 * B-tree cells of the table and its two indexes. Measured against SQLite's database size: a tree
 * of empty files with long names stays within the quota (test/workers/sandbox-quota.test.ts).
 */
export const NODE_ROW_BYTES = 160;

/** Bytes one fs_nodes entry at `path` is charged besides its content. */
export function nodeOverhead(path: string, parent: string): number {
  return NODE_ROW_BYTES + 2 * byteLength(path) + 2 * byteLength(parent);
}

/** nodeOverhead as SQL over an fs_nodes row (for sums over a subtree). */
export const NODE_OVERHEAD_SQL = `(${NODE_ROW_BYTES} + 2 * length(CAST(path AS BLOB)) + 2 * length(CAST(parent AS BLOB)))`;

export interface Usage {
  /** Stored bytes: file contents and symlink targets. */
  bytes: number;
  /** Regular files. */
  files: number;
}

type Counter = "bytes" | "files" | "overhead";

function counter(sql: SqlStorage, key: Counter): number {
  return first<{ value: number }>(sql, "SELECT value FROM fs_meta WHERE key = ?", key)?.value ?? 0;
}

export function readUsage(sql: SqlStorage): Usage {
  return { bytes: counter(sql, "bytes"), files: counter(sql, "files") };
}

/** Everything the tree stores: contents, symlink targets and what its entries cost. */
export function treeBytes(sql: SqlStorage): number {
  return counter(sql, "bytes") + counter(sql, "overhead");
}

export function addUsage(sql: SqlStorage, bytes: number, files = 0, overhead = 0): void {
  for (const [key, delta] of [
    ["bytes", bytes],
    ["files", files],
    ["overhead", overhead],
  ] as const) {
    if (delta === 0) continue;
    run(
      sql,
      "INSERT INTO fs_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
      key,
      delta,
    );
  }
}

/** Recomputes the counters from the tree (after bulk deletes, on a schema upgrade, and to check the bookkeeping). */
export function recountUsage(sql: SqlStorage): Usage {
  const row = first<{ bytes: number | null; files: number | null; overhead: number | null }>(
    sql,
    `SELECT SUM(CASE WHEN type != 'dir' THEN size ELSE 0 END) AS bytes, SUM(type = 'file') AS files,
       SUM(${NODE_OVERHEAD_SQL}) AS overhead FROM fs_nodes`,
  );
  const usage = { bytes: row?.bytes ?? 0, files: row?.files ?? 0 };
  run(
    sql,
    "INSERT OR REPLACE INTO fs_meta (key, value) VALUES ('bytes', ?), ('files', ?), ('overhead', ?)",
    usage.bytes,
    usage.files,
    row?.overhead ?? 0,
  );
  return usage;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The error for a write past the quota. Its message reads like an errno error (just-bash prints
 * it as the reason a command failed) and its code maps to HTTP 507 for the staging API.
 */
export function quotaExceeded(op: string, path: string, quota: number, needed: number): TetherError {
  return new TetherError(
    "quota_exceeded",
    `ENOSPC: sandbox storage quota exceeded (${formatBytes(quota)}; this change would bring the total to ${formatBytes(needed)}), ${op} '${path}'`,
  );
}

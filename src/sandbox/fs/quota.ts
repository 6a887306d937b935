/**
 * Usage accounting. Stored bytes are file contents plus symlink targets; the counters live in
 * fs_meta and move inside the same transaction as the change they describe, so they never drift
 * from the tree. A change that would end above the quota throws before it commits, which rolls the
 * whole change back: the previous content and the counters stay as they were.
 */
import { TetherError } from "../../errors/tether-error.ts";
import { first, run } from "../../storage/sql.ts";

export const DEFAULT_QUOTA_BYTES = 256 * 1024 * 1024;

export interface Usage {
  /** Stored bytes: file contents and symlink targets. */
  bytes: number;
  /** Regular files. */
  files: number;
}

function counter(sql: SqlStorage, key: "bytes" | "files"): number {
  return first<{ value: number }>(sql, "SELECT value FROM fs_meta WHERE key = ?", key)?.value ?? 0;
}

export function readUsage(sql: SqlStorage): Usage {
  return { bytes: counter(sql, "bytes"), files: counter(sql, "files") };
}

export function addUsage(sql: SqlStorage, bytes: number, files = 0): void {
  for (const [key, delta] of [
    ["bytes", bytes],
    ["files", files],
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

/** Recomputes the counters from the tree (after bulk deletes, and to check the bookkeeping). */
export function recountUsage(sql: SqlStorage): Usage {
  const row = first<{ bytes: number | null; files: number }>(
    sql,
    "SELECT SUM(size) AS bytes, SUM(type = 'file') AS files FROM fs_nodes WHERE type != 'dir'",
  );
  const usage = { bytes: row?.bytes ?? 0, files: row?.files ?? 0 };
  run(sql, "INSERT OR REPLACE INTO fs_meta (key, value) VALUES ('bytes', ?), ('files', ?)", usage.bytes, usage.files);
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

/** Throws when usage after a change would exceed the quota; call it inside the change's transaction. */
export function assertWithinQuota(sql: SqlStorage, quota: number, op: string, path: string): void {
  const bytes = counter(sql, "bytes");
  if (bytes > quota) throw quotaExceeded(op, path, quota, bytes);
}

/**
 * Row-level access to fs_nodes (layout in schema.ts): lookups, symlink resolution confined to the
 * sandbox, and subtree operations as index range scans. SqliteFs builds IFileSystem semantics on
 * top of this; nothing here decides what an operation means.
 */
import { all, ensureSchema, first, run } from "../../storage/sql.ts";
import { deleteBlob } from "./chunks.ts";
import { deviceNames, deviceRow, isDevicePath } from "./devices.ts";
import { fsError } from "./fs-errors.ts";
import { WHOLE_FILE_MAX_BYTES } from "./large-files.ts";
import {
  basename,
  descendantRange,
  dirname,
  joinPath,
  MAX_SYMLINK_HOPS,
  normalizePath,
  resolveSymlinkTarget,
  segments,
  validatePath,
} from "./paths.ts";
import { addUsage, NODE_OVERHEAD_SQL, nodeOverhead, recountUsage } from "./quota.ts";
import {
  DEFAULT_DIRS,
  DIR_MODE,
  FS_SCHEMA_VERSION,
  NODE_COLUMNS,
  type NodeRow,
  type NodeType,
  SCHEMA,
} from "./schema.ts";

export interface Resolved {
  /** The physical path: every symlink on the way replaced by where it points. */
  path: string;
  node: NodeRow | undefined;
}

export interface NewNode {
  type: NodeType;
  mode: number;
  mtime: number;
  size?: number;
  target?: string | null;
  blob?: number | null;
}

export class NodeStore {
  readonly sql: SqlStorage;
  /**
   * Whether any symlink exists, remembered between lookups (every path resolution asks). Only
   * `insert` creates symlinks and only deletes and renames can remove them, so: set on inserting
   * one, forgotten (asked again) on any delete or rename. A stale `true` only costs the slower walk.
   */
  private symlinks: boolean | undefined;

  /**
   * Runs on every wake, so it only reads unless there is something to do: a statement that may
   * write (even `CREATE TABLE IF NOT EXISTS` on a table that exists) makes the object's next answer
   * wait for a commit.
   */
  constructor(sql: SqlStorage, now: number) {
    this.sql = sql;
    if (!hasCurrentSchema(sql)) {
      ensureSchema(sql, SCHEMA);
      // Trees from before entries were charged for their rows and names get their counters recomputed.
      recountUsage(sql);
      run(sql, "INSERT OR REPLACE INTO fs_meta (key, value) VALUES ('schema_version', ?)", FS_SCHEMA_VERSION);
    }
    this.ensureDefaultDirs(now);
    // A stream interrupted by eviction leaves chunks no node points at: drop them.
    if (first(sql, "SELECT 1 FROM fs_pending LIMIT 1")) {
      run(sql, "DELETE FROM fs_chunks WHERE blob IN (SELECT blob FROM fs_pending)");
      run(sql, "DELETE FROM fs_pending");
    }
  }

  /** Creates whichever of DEFAULT_DIRS is missing (all of them in a new sandbox). */
  ensureDefaultDirs(now: number): void {
    const present = first<{ n: number }>(
      this.sql,
      `SELECT count(*) AS n FROM fs_nodes WHERE path IN (${DEFAULT_DIRS.map(() => "?").join(", ")})`,
      ...DEFAULT_DIRS,
    );
    if (present?.n === DEFAULT_DIRS.length) return;
    for (const path of DEFAULT_DIRS) {
      const parent = path === "/" ? "" : dirname(path);
      const added = run(
        this.sql,
        "INSERT OR IGNORE INTO fs_nodes (path, parent, type, mode, mtime) VALUES (?, ?, 'dir', ?, ?)",
        path,
        parent,
        DIR_MODE,
        now,
      );
      if (added > 0) addUsage(this.sql, 0, 0, nodeOverhead(path, parent));
    }
  }

  lookup(path: string): NodeRow | undefined {
    if (isDevicePath(path)) return deviceRow(path);
    return first<NodeRow>(this.sql, `SELECT ${NODE_COLUMNS} FROM fs_nodes WHERE path = ?`, path);
  }

  hasSymlinks(): boolean {
    this.symlinks ??= first(this.sql, "SELECT 1 FROM fs_nodes WHERE type = 'symlink' LIMIT 1") !== undefined;
    return this.symlinks;
  }

  /** Forgets what is remembered about the tree (after changes made around this class). */
  forget(): void {
    this.symlinks = undefined;
  }

  /**
   * Resolves a path to its physical location. Symlinks in the middle are always followed, the last
   * one only with `followLast`. Targets are read as paths in the sandbox (an absolute target starts
   * at the sandbox's `/`), so resolution can never leave it; more than MAX_SYMLINK_HOPS links is ELOOP.
   * A missing or non-directory component yields `node: undefined` and a path whose parent is absent
   * or not a directory, which callers report as ENOENT / ENOTDIR.
   */
  resolve(input: string, op: string, followLast = true): Resolved {
    validatePath(input, op);
    const normalized = normalizePath(input);
    if (!this.hasSymlinks()) return { path: normalized, node: this.lookup(normalized) };
    let pending = segments(normalized);
    let current = "/";
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift() as string;
      const candidate = joinPath(current, name);
      const node = this.lookup(candidate);
      if (node?.type === "symlink" && (pending.length > 0 || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw fsError("ELOOP", op, input);
        pending = [...segments(resolveSymlinkTarget(candidate, node.target ?? "")), ...pending];
        current = "/";
        continue;
      }
      if (pending.length === 0) return { path: candidate, node };
      if (node?.type !== "dir") return { path: `${candidate}/${pending.join("/")}`, node: undefined };
      current = candidate;
    }
    return { path: "/", node: this.lookup("/") };
  }

  /** The directory a new entry at `path` goes into; ENOENT / ENOTDIR when there is none. */
  parentDir(path: string, op: string, shownPath: string): NodeRow {
    const parent = this.lookup(dirname(path));
    if (!parent) throw fsError("ENOENT", op, shownPath);
    if (parent.type !== "dir") throw fsError("ENOTDIR", op, shownPath);
    return parent;
  }

  /**
   * The entries of a directory, sorted. A directory whose names alone pass WHOLE_FILE_MAX_BYTES
   * (hundreds of thousands of entries) is refused rather than listed: the list would not fit in the
   * object's memory. It can still be removed whole (`rm -r`), which works on the index, not a list.
   */
  children(dir: string): { name: string; type: NodeType }[] {
    const size = first<{ n: number; bytes: number | null }>(
      this.sql,
      "SELECT count(*) AS n, SUM(length(CAST(path AS BLOB))) AS bytes FROM fs_nodes WHERE parent = ?",
      dir,
    );
    // Each entry is held as its path and name (UTF-16) plus an object: several times its bytes.
    if (size && (size.bytes ?? 0) + size.n * 64 > WHOLE_FILE_MAX_BYTES) {
      throw fsError(
        "EFBIG",
        "scandir",
        dir,
        `directory too large to list at once (${size.n} entries); remove it whole with rm -r, or use paths you know`,
      );
    }
    const rows = all<{ path: string; type: NodeType }>(
      this.sql,
      "SELECT path, type FROM fs_nodes WHERE parent = ?",
      dir,
    );
    const entries = rows.map((row) => ({ name: basename(row.path), type: row.type }));
    if (dir === "/") entries.push({ name: "dev", type: "dir" });
    if (dir === "/dev") for (const name of deviceNames()) entries.push({ name, type: "file" });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  hasChildren(dir: string): boolean {
    return first(this.sql, "SELECT 1 FROM fs_nodes WHERE parent = ? LIMIT 1", dir) !== undefined;
  }

  /** Adds an entry and charges its row (nodeOverhead); content is charged by the caller. */
  insert(path: string, node: NewNode): void {
    if (node.type === "symlink") this.symlinks = true;
    addUsage(this.sql, 0, 0, nodeOverhead(path, dirname(path)));
    run(
      this.sql,
      "INSERT INTO fs_nodes (path, parent, type, mode, mtime, size, target, blob) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      path,
      dirname(path),
      node.type,
      node.mode,
      node.mtime,
      node.size ?? 0,
      node.target ?? null,
      node.blob ?? null,
    );
  }

  /** `path` and everything below it, parents before children. */
  subtree(path: string): NodeRow[] {
    const { from, to } = descendantRange(path);
    return all<NodeRow>(
      this.sql,
      `SELECT ${NODE_COLUMNS} FROM fs_nodes WHERE path = ? OR (path >= ? AND path < ?) ORDER BY path`,
      path,
      from,
      to,
    );
  }

  /** Deletes a node, its descendants and their content, and takes them off the usage counters. */
  deleteSubtree(path: string): void {
    const { from, to } = descendantRange(path);
    const where = "(path = ? OR (path >= ? AND path < ?)) AND path != '/'";
    const gone = first<{ bytes: number | null; files: number | null; overhead: number | null }>(
      this.sql,
      `SELECT SUM(CASE WHEN type != 'dir' THEN size ELSE 0 END) AS bytes, SUM(type = 'file') AS files,
         SUM(${NODE_OVERHEAD_SQL}) AS overhead FROM fs_nodes WHERE ${where}`,
      path,
      from,
      to,
    );
    for (const row of all<{ blob: number }>(
      this.sql,
      `SELECT blob FROM fs_nodes WHERE ${where} AND blob IS NOT NULL`,
      path,
      from,
      to,
    )) {
      deleteBlob(this.sql, row.blob);
    }
    run(this.sql, `DELETE FROM fs_nodes WHERE ${where}`, path, from, to);
    this.symlinks = undefined;
    addUsage(this.sql, -(gone?.bytes ?? 0), -(gone?.files ?? 0), -(gone?.overhead ?? 0));
  }

  /** Renames a node and its whole subtree (content stays where it is: blobs are keyed by id). */
  renameSubtree(from: string, to: string): void {
    this.symlinks = undefined;
    const range = descendantRange(from);
    const cut = from.length + 1;
    const before = this.subtreeOverhead(from);
    run(
      this.sql,
      `UPDATE fs_nodes SET
         path = ? || substr(path, ?),
         parent = CASE WHEN path = ? THEN ? ELSE ? || substr(parent, ?) END
       WHERE path = ? OR (path >= ? AND path < ?)`,
      to,
      cut,
      from,
      dirname(to),
      to,
      cut,
      from,
      range.from,
      range.to,
    );
    // The names changed length: charge the difference.
    const after = this.subtreeOverhead(to);
    addUsage(this.sql, 0, 0, after - before);
  }

  /** What a node and its subtree are charged for their rows and names (see NODE_OVERHEAD_SQL). */
  private subtreeOverhead(path: string): number {
    const range = descendantRange(path);
    return (
      first<{ n: number | null }>(
        this.sql,
        `SELECT SUM(${NODE_OVERHEAD_SQL}) AS n FROM fs_nodes WHERE path = ? OR (path >= ? AND path < ?)`,
        path,
        range.from,
        range.to,
      )?.n ?? 0
    );
  }

  allPaths(): string[] {
    return all<{ path: string }>(this.sql, "SELECT path FROM fs_nodes ORDER BY path").map((row) => row.path);
  }
}

/** Whether the tables exist at FS_SCHEMA_VERSION (read-only, unlike the set-up itself). */
function hasCurrentSchema(sql: SqlStorage): boolean {
  if (!first(sql, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fs_meta'")) return false;
  const row = first<{ value: number }>(sql, "SELECT value FROM fs_meta WHERE key = 'schema_version'");
  return row?.value === FS_SCHEMA_VERSION;
}

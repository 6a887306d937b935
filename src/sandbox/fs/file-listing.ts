/**
 * The regular files under a directory with their sizes and mtimes, read in one index range scan
 * of fs_nodes (schema.ts) instead of a directory walk with a stat per entry. Symlinks below the
 * directory are not followed (they are not regular files), so a listing never leaves its subtree;
 * the directory itself may be reached through symlinks. Bounded: the caller names how many
 * entries it takes, and gets `complete: false` when there were more.
 */
import { all } from "../../storage/sql.ts";
import { fsError } from "./fs-errors.ts";
import type { NodeStore } from "./node-store.ts";
import { descendantRange } from "./paths.ts";

export interface ListedFile {
  /** Physical absolute path (symlinks on the way to the directory resolved). */
  path: string;
  size: number;
  /** Milliseconds since the epoch. */
  mtimeMs: number;
}

export interface FileListingOptions {
  /** At most this many entries are returned; `complete` says whether that was all of them. */
  limit: number;
  /** Directory names whose subtrees are left out when they occur below the root (`.git`, …). */
  skipDirs?: readonly string[];
}

export interface FileListing {
  root: string;
  files: ListedFile[];
  complete: boolean;
}

export function listFiles(nodes: NodeStore, root: string, options: FileListingOptions): FileListing {
  const { path: dir, node } = nodes.resolve(root, "scandir");
  if (!node) throw fsError("ENOENT", "scandir", root);
  if (node.type !== "dir") throw fsError("ENOTDIR", "scandir", root);
  const { from, to } = descendantRange(dir);
  // The part of each path below the root starts with `/`; a skipped name is a `/NAME/` in it.
  // (SQLite counts characters where JavaScript counts UTF-16 units: the prefix is measured there.)
  const prefix = dir === "/" ? "" : dir;
  const skips = (options.skipDirs ?? []).map(() => " AND instr(substr(path, length(?) + 1), ?) = 0").join("");
  const skipParams = (options.skipDirs ?? []).flatMap((name) => [prefix, `/${name}/`]);
  const rows = all<{ path: string; size: number; mtime: number }>(
    nodes.sql,
    `SELECT path, size, mtime FROM fs_nodes WHERE path >= ? AND path < ? AND type = 'file'${skips} LIMIT ?`,
    from,
    to,
    ...skipParams,
    options.limit + 1,
  );
  const complete = rows.length <= options.limit;
  const files = rows.slice(0, options.limit).map((row) => ({ path: row.path, size: row.size, mtimeMs: row.mtime }));
  return { root: dir, files, complete };
}

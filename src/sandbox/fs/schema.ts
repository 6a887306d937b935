/**
 * Storage layout of the sandbox filesystem inside its Durable Object's SQLite database.
 *
 *   fs_nodes   one row per file, directory or symlink, keyed by its normalised absolute path.
 *              `parent` (dirname) is indexed for directory listings; a subtree is the index range
 *              `[dir/, dir0)` on `path`. A file's bytes live in fs_chunks under its `blob` id, so a
 *              rename rewrites paths only, never content.
 *   fs_chunks  a file's content as rows of at most CHUNK_SIZE bytes (SQLite rows cap at 2 MB),
 *              numbered 0.. by `seq`.
 *   fs_meta    counters: stored bytes, file count, entry overhead (quota.ts), the next blob id; and `schema_version`
 *              (FS_SCHEMA_VERSION once the tables below are set up, so a wake can tell by reading).
 *   fs_pending blobs being filled by a stream that has not committed yet; whatever a stream left
 *              there when the object was evicted mid-upload is deleted on the next wake.
 *
 * Invariant: every node's parent exists and is a directory, so with no symlinks in the tree a
 * path resolves with one lookup.
 */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * Bump when SCHEMA or the accounting changes, so existing sandboxes run the (idempotent) set-up
 * again on wake, which also recounts usage. 2: entries are charged for their rows and names.
 */
export const FS_SCHEMA_VERSION = 2;

export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS fs_nodes (
     path TEXT PRIMARY KEY,
     parent TEXT NOT NULL,
     type TEXT NOT NULL CHECK (type IN ('file', 'dir', 'symlink')),
     mode INTEGER NOT NULL,
     mtime INTEGER NOT NULL,
     size INTEGER NOT NULL DEFAULT 0,
     target TEXT,
     blob INTEGER)`,
  "CREATE INDEX IF NOT EXISTS fs_nodes_parent ON fs_nodes (parent)",
  "CREATE INDEX IF NOT EXISTS fs_nodes_symlinks ON fs_nodes (path) WHERE type = 'symlink'",
  `CREATE TABLE IF NOT EXISTS fs_chunks (
     blob INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (blob, seq))`,
  "CREATE TABLE IF NOT EXISTS fs_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS fs_pending (blob INTEGER PRIMARY KEY)",
] as const;

export type NodeType = "file" | "dir" | "symlink";

export interface NodeRow {
  rowid: number;
  path: string;
  parent: string;
  type: NodeType;
  mode: number;
  mtime: number;
  size: number;
  target: string | null;
  blob: number | null;
}

export const NODE_COLUMNS = "rowid, path, parent, type, mode, mtime, size, target, blob";

export const DIR_MODE = 0o755;
export const FILE_MODE = 0o644;
export const SYMLINK_MODE = 0o777;

/** Directories every sandbox has. */
export const DEFAULT_DIRS = ["/", "/workspace", "/tmp"] as const;

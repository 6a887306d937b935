/**
 * The sandbox filesystem: just-bash's IFileSystem over a Durable Object's SQLite storage, so the
 * shell, the file tools and the staging API all see one persistent tree.
 *
 * Storage layout: schema.ts. Lifecycle: construct it on every wake of the object (the schema is
 * set up once; a wake only reads); one instance per object, since it remembers facts about the
 * tree between calls (node-store.ts). Every change runs in one SQLite transaction and checks the
 * quota before it commits, so a failed write leaves the old content and the counters exactly as
 * they were.
 *
 * Semantics follow just-bash's in-memory filesystem, which its interpreter is written against:
 * writes create missing parent directories (an error thrown from a redirection's write would end
 * the whole script), and errors read `CODE: description, op 'path'`. Where that filesystem is looser
 * than POSIX this one is POSIX: writes go through symlinks to their targets, intermediate symlinks
 * resolve, writing onto a directory is EISDIR, and renaming a directory onto a non-empty one is
 * ENOTEMPTY. Hard links are copies (as in just-bash, later writes to one name do not show in the
 * other).
 */
import type { CpOptions, FileContent, FsStat, IFileSystem, MkdirOptions, RmOptions } from "just-bash";
import { allocateBlob, appendChunks, deleteBlob, readBlob, readBlobRange, writeChunks } from "./chunks.ts";
import { isDevicePath } from "./devices.ts";
import { byteLength, type EncodingOption, encodingOf, fromBytes, toBytes } from "./encoding.ts";
import { type FileListing, type FileListingOptions, listFiles } from "./file-listing.ts";
import { fsError } from "./fs-errors.ts";
import { readStream, type WalkEntry, walk, writeStream } from "./fs-streams.ts";
import { fileTooLarge, type RangedFs, type Splice, WHOLE_FILE_MAX_BYTES } from "./large-files.ts";
import { NodeStore } from "./node-store.ts";
import { dirname, isSameOrDescendant, resolvePath } from "./paths.ts";
import { addUsage, DEFAULT_QUOTA_BYTES, quotaExceeded, readUsage, treeBytes, type Usage } from "./quota.ts";
import { type NodeRow, SYMLINK_MODE } from "./schema.ts";
import { spliceBlob } from "./splice.ts";
import { TreeWriter } from "./tree-writer.ts";

/** What SqliteFs needs from `ctx.storage`. */
export interface FsStorage {
  readonly sql: SqlStorage;
  transactionSync<T>(closure: () => T): T;
}

export interface SqliteFsOptions {
  /** Stored bytes allowed (see quota.ts for what counts). Default 256 MiB. */
  quotaBytes?: number;
  /** Bytes the sandbox stores outside the tree (shell state, trace), counted toward the quota. */
  externalBytes?: () => number;
  /** Clock for mtimes (tests). */
  now?: () => number;
}

export type { Usage, WalkEntry };

type DirentEntry = Awaited<ReturnType<NonNullable<IFileSystem["readdirWithFileTypes"]>>>[number];

export class SqliteFs implements IFileSystem, RangedFs {
  readonly quotaBytes: number;
  private readonly storage: FsStorage;
  private readonly nodes: NodeStore;
  private readonly writer: TreeWriter;
  private readonly now: () => number;
  private readonly externalBytes: () => number;

  constructor(storage: FsStorage, options: SqliteFsOptions = {}) {
    this.storage = storage;
    this.quotaBytes = options.quotaBytes ?? DEFAULT_QUOTA_BYTES;
    this.externalBytes = options.externalBytes ?? (() => 0);
    this.now = options.now ?? Date.now;
    this.nodes = new NodeStore(storage.sql, this.now());
    this.writer = new TreeWriter(this.nodes, this.now);
  }

  // ---- reading ----

  async readFile(path: string, options?: EncodingOption): Promise<string> {
    return fromBytes(await this.readFileBuffer(path), encodingOf(options));
  }

  /** The whole content; a file above WHOLE_FILE_MAX_BYTES is refused (EFBIG): read it by range. */
  async readFileBuffer(path: string): Promise<Uint8Array> {
    const node = this.existing(path, "open");
    if (node.type === "dir") throw fsError("EISDIR", "read", path);
    if (node.size > WHOLE_FILE_MAX_BYTES) throw fileTooLarge("open", path, node.size);
    return node.blob === null ? new Uint8Array(0) : readBlob(this.nodes.sql, node.blob, node.size);
  }

  /** Bytes `[offset, offset + length)` of a file (fewer at its end), reading only the chunks they are in. */
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const node = this.existing(path, "open");
    if (node.type === "dir") throw fsError("EISDIR", "read", path);
    if (node.blob === null) return new Uint8Array(0);
    return readBlobRange(this.nodes.sql, node.blob, node.size, offset, length);
  }

  async exists(path: string): Promise<boolean> {
    try {
      return this.nodes.resolve(path, "access").node !== undefined;
    } catch {
      return false;
    }
  }

  async stat(path: string): Promise<FsStat> {
    return toStat(this.existing(path, "stat"));
  }

  async lstat(path: string): Promise<FsStat> {
    return toStat(this.existing(path, "lstat", false));
  }

  async readdir(path: string): Promise<string[]> {
    return (await this.readdirWithFileTypes(path)).map((entry) => entry.name);
  }

  async readdirWithFileTypes(path: string): Promise<DirentEntry[]> {
    const { path: dir, node } = this.nodes.resolve(path, "scandir");
    if (!node) throw fsError("ENOENT", "scandir", path);
    if (node.type !== "dir") throw fsError("ENOTDIR", "scandir", path);
    return this.nodes.children(dir).map(({ name, type }) => ({
      name,
      isFile: type === "file",
      isDirectory: type === "dir",
      isSymbolicLink: type === "symlink",
    }));
  }

  async readlink(path: string): Promise<string> {
    const node = this.existing(path, "readlink", false);
    if (node.type !== "symlink") throw fsError("EINVAL", "readlink", path);
    return node.target ?? "";
  }

  async realpath(path: string): Promise<string> {
    const resolved = this.nodes.resolve(path, "realpath");
    if (!resolved.node) throw fsError("ENOENT", "realpath", path);
    return resolved.path;
  }

  /**
   * Where `path` leads once every symlink on the way (the last one too) is followed, whether or
   * not it exists: what a create at `path` would create, so callers can confine paths.
   */
  physicalPath(path: string): string {
    return this.nodes.resolve(path, "realpath").path;
  }

  /** The regular files below a directory, with sizes and mtimes, in one scan (file-listing.ts). */
  listFiles(root: string, options: FileListingOptions): FileListing {
    return listFiles(this.nodes, root, options);
  }

  resolvePath(base: string, path: string): string {
    return resolvePath(base, path);
  }

  getAllPaths(): string[] {
    return this.nodes.allPaths();
  }

  // ---- writing ----

  async writeFile(path: string, content: FileContent, options?: EncodingOption): Promise<void> {
    const bytes = toBytes(content, encodingOf(options));
    this.transaction("open", path, () => {
      const target = this.writer.writeTarget(path, "open");
      if (!target) return;
      const old = target.node;
      this.precheckQuota(bytes.byteLength - (old?.size ?? 0), "write", path);
      const blob = allocateBlob(this.nodes.sql);
      writeChunks(this.nodes.sql, blob, bytes);
      this.writer.putFile(target.path, old, blob, bytes.byteLength);
    });
  }

  async appendFile(path: string, content: FileContent, options?: EncodingOption): Promise<void> {
    const bytes = toBytes(content, encodingOf(options));
    this.transaction("append", path, () => {
      const target = this.writer.writeTarget(path, "append");
      if (!target) return;
      const old = target.node;
      this.precheckQuota(bytes.byteLength, "append", path);
      if (!old || old.blob === null) {
        const blob = allocateBlob(this.nodes.sql);
        writeChunks(this.nodes.sql, blob, bytes);
        this.writer.putFile(target.path, old, blob, bytes.byteLength);
        return;
      }
      appendChunks(this.nodes.sql, old.blob, old.size, bytes);
      const size = old.size + bytes.byteLength;
      this.sqlRun("UPDATE fs_nodes SET size = ?, mtime = ? WHERE path = ?", size, this.now(), target.path);
      addUsage(this.nodes.sql, bytes.byteLength);
    });
  }

  /**
   * Replaces byte ranges of a file, rewriting only the chunk rows that change (splice.ts), in one
   * transaction with the quota checked: all edits apply or none. Edits must not overlap; they are
   * applied from the last to the first, so each offset means the content before any of them.
   */
  async splice(path: string, edits: readonly Splice[]): Promise<number> {
    return this.transaction("write", path, () => {
      const { path: physical, node } = this.nodes.resolve(path, "open");
      if (!node) throw fsError("ENOENT", "open", path);
      if (node.type !== "file" || isDevicePath(physical)) throw fsError("EISDIR", "write", path);
      const ordered = [...edits].sort((a, b) => b.offset - a.offset);
      let limit = node.size;
      for (const edit of ordered) {
        if (edit.offset < 0 || edit.deleteLength < 0 || edit.offset + edit.deleteLength > limit) {
          throw fsError("EINVAL", "write", path);
        }
        limit = edit.offset;
      }
      const delta = ordered.reduce((sum, edit) => sum + edit.insert.byteLength - edit.deleteLength, 0);
      this.precheckQuota(delta, "write", path);
      let blob = node.blob;
      if (blob === null) {
        blob = allocateBlob(this.nodes.sql);
        this.sqlRun("UPDATE fs_nodes SET blob = ? WHERE path = ?", blob, physical);
      }
      let size = node.size;
      for (const edit of ordered) size = spliceBlob(this.nodes.sql, blob, size, edit);
      this.sqlRun("UPDATE fs_nodes SET size = ?, mtime = ? WHERE path = ?", size, this.now(), physical);
      addUsage(this.nodes.sql, delta);
      return size;
    });
  }

  async mkdir(path: string, options?: MkdirOptions): Promise<void> {
    this.transaction("mkdir", path, () => {
      if (!options?.recursive) {
        const { path: physical, node } = this.nodes.resolve(path, "mkdir", false);
        if (node) throw fsError("EEXIST", "mkdir", path, node.type === "dir" ? "directory already exists" : undefined);
        this.nodes.parentDir(physical, "mkdir", path);
        this.writer.createDir(physical, path);
        return;
      }
      this.writer.mkdirp(path, path);
    });
  }

  async rm(path: string, options?: RmOptions): Promise<void> {
    this.transaction("rm", path, () => {
      const { path: physical, node } = this.nodes.resolve(path, "rm", false);
      if (!node) {
        if (options?.force) return;
        throw fsError("ENOENT", "rm", path);
      }
      if (physical === "/" || isDevicePath(physical)) throw fsError("EPERM", "rm", path);
      if (node.type === "dir" && !options?.recursive && this.nodes.hasChildren(physical)) {
        throw fsError("ENOTEMPTY", "rm", path);
      }
      this.nodes.deleteSubtree(physical);
    });
  }

  async cp(src: string, dest: string, options?: CpOptions): Promise<void> {
    this.transaction("cp", dest, () => {
      // Like GNU cp: -r copies a symlink named on the command line as a symlink.
      const from = this.nodes.resolve(src, "cp", !options?.recursive);
      if (!from.node) throw fsError("ENOENT", "cp", src);
      if (from.node.type === "dir") {
        if (!options?.recursive) throw fsError("EISDIR", "cp", src, "is a directory");
        const to = this.nodes.resolve(dest, "cp");
        if (isSameOrDescendant(from.path, to.path)) {
          throw fsError("EINVAL", "cp", src, `cannot copy '${src}' into itself, '${dest}'`);
        }
        this.writer.copyTree(from.path, to, dest);
      } else {
        this.writer.copyEntry(from.node, dest);
      }
    });
  }

  async mv(src: string, dest: string): Promise<void> {
    this.transaction("mv", dest, () => {
      const from = this.nodes.resolve(src, "mv", false);
      if (!from.node) throw fsError("ENOENT", "mv", src);
      if (from.path === "/" || isDevicePath(from.path)) throw fsError("EPERM", "mv", src);
      const to = this.nodes.resolve(dest, "mv", false);
      if (to.path === from.path) return;
      if (from.node.type === "dir" && isSameOrDescendant(from.path, to.path)) {
        throw fsError("EINVAL", "mv", src, `cannot move '${src}' into itself, '${dest}'`);
      }
      if (isDevicePath(to.path)) throw fsError("EPERM", "mv", dest);
      this.writer.mkdirp(dirname(to.path), dest);
      if (to.node) {
        if (from.node.type === "dir" && to.node.type !== "dir") throw fsError("ENOTDIR", "mv", dest);
        if (from.node.type !== "dir" && to.node.type === "dir") throw fsError("EISDIR", "mv", dest);
        if (to.node.type === "dir" && this.nodes.hasChildren(to.path)) throw fsError("ENOTEMPTY", "mv", dest);
        this.nodes.deleteSubtree(to.path);
      }
      this.nodes.renameSubtree(from.path, to.path);
    });
  }

  async chmod(path: string, mode: number): Promise<void> {
    const { path: physical, node } = this.nodes.resolve(path, "chmod");
    if (!node) throw fsError("ENOENT", "chmod", path);
    if (isDevicePath(physical)) return;
    this.sqlRun("UPDATE fs_nodes SET mode = ? WHERE path = ?", mode & 0o7777, physical);
  }

  async utimes(path: string, _atime: Date, mtime: Date): Promise<void> {
    const { path: physical, node } = this.nodes.resolve(path, "utimes");
    if (!node) throw fsError("ENOENT", "utimes", path);
    if (isDevicePath(physical)) return;
    this.sqlRun("UPDATE fs_nodes SET mtime = ? WHERE path = ?", mtime.getTime(), physical);
  }

  async symlink(target: string, linkPath: string): Promise<void> {
    this.transaction("symlink", linkPath, () => {
      const { path: physical, node } = this.nodes.resolve(linkPath, "symlink", false);
      if (node) throw fsError("EEXIST", "symlink", linkPath);
      if (isDevicePath(physical)) throw fsError("EPERM", "symlink", linkPath);
      this.writer.mkdirp(dirname(physical), linkPath);
      const size = byteLength(target);
      this.nodes.insert(physical, { type: "symlink", mode: SYMLINK_MODE, mtime: this.now(), size, target });
      addUsage(this.nodes.sql, size);
    });
  }

  /** A hard link is stored as a copy: the two names do not share later writes. */
  async link(existingPath: string, newPath: string): Promise<void> {
    this.transaction("link", newPath, () => {
      const from = this.existing(existingPath, "link", false);
      if (from.type !== "file") throw fsError("EPERM", "link", existingPath);
      const to = this.nodes.resolve(newPath, "link", false);
      if (to.node) throw fsError("EEXIST", "link", newPath);
      this.writer.copyEntry(from, newPath);
    });
  }

  // ---- extras for the HTTP layer and inspection ----

  usage(): Usage {
    return readUsage(this.nodes.sql);
  }

  /** Every byte counted toward the quota: contents, entries (rows and names) and what is stored beside the tree. */
  storedBytes(): number {
    return treeBytes(this.nodes.sql) + this.externalBytes();
  }

  /** Every entry below `/`, parents before children (for tar export). */
  walk(): AsyncIterable<WalkEntry> {
    return walk(this.nodes.sql);
  }

  readStream(path: string): ReadableStream<Uint8Array> {
    const node = this.existing(path, "open");
    if (node.type === "dir") throw fsError("EISDIR", "read", path);
    return readStream(this.nodes.sql, node);
  }

  /**
   * Streams a body into a file: chunk rows are written as bytes arrive (memory stays at one chunk),
   * the quota is checked as it grows, and the file is replaced atomically at the end. On any failure
   * the old file is untouched and the partial chunks are dropped. Resolves to the bytes written.
   */
  async writeStream(path: string, body: ReadableStream<Uint8Array>): Promise<number> {
    this.writer.writeTarget(path, "open", false); // fail fast, before reading the body
    return writeStream(body, {
      sql: this.nodes.sql,
      quotaBytes: this.quotaBytes,
      headroom: () => this.quotaBytes - this.storedBytes() + (this.nodes.resolve(path, "open").node?.size ?? 0),
      exceeded: (needed) => quotaExceeded("write", path, this.quotaBytes, needed),
      commit: (blob, size) =>
        this.transaction("open", path, () => {
          this.sqlRun("DELETE FROM fs_pending WHERE blob = ?", blob);
          const target = this.writer.writeTarget(path, "open");
          if (!target) return deleteBlob(this.nodes.sql, blob);
          this.writer.putFile(target.path, target.node, blob, size);
        }),
    });
  }

  /** Empties the filesystem back to its initial layout. */
  async deleteAll(): Promise<void> {
    this.storage.transactionSync(() => {
      for (const table of ["fs_nodes", "fs_chunks", "fs_pending"]) this.sqlRun(`DELETE FROM ${table}`);
      this.sqlRun("DELETE FROM fs_meta WHERE key != 'schema_version'");
      this.nodes.forget();
      this.nodes.ensureDefaultDirs(this.now());
    });
  }

  // ---- internals ----

  /**
   * Runs a change in one transaction, refusing (rolling back) one that grows the stored total past
   * the quota. A change that does not grow it (a delete, a rename to a shorter name) always goes
   * through, so a sandbox over its quota can always be cleaned up.
   */
  private transaction<T>(op: string, path: string, change: () => T): T {
    return this.storage.transactionSync(() => {
      const before = treeBytes(this.nodes.sql);
      const result = change();
      const after = treeBytes(this.nodes.sql);
      const total = after + this.externalBytes();
      if (after > before && total > this.quotaBytes) {
        throw quotaExceeded(op === "open" ? "write" : op, path, this.quotaBytes, total);
      }
      return result;
    });
  }

  private existing(path: string, op: string, followLast = true): NodeRow {
    const { node } = this.nodes.resolve(path, op, followLast);
    if (!node) throw fsError("ENOENT", op, path);
    return node;
  }

  private precheckQuota(growth: number, op: string, path: string): void {
    const used = this.storedBytes();
    if (growth > 0 && used + growth > this.quotaBytes) throw quotaExceeded(op, path, this.quotaBytes, used + growth);
  }

  private sqlRun(query: string, ...params: (string | number | null)[]): void {
    this.nodes.sql.exec(query, ...params);
  }
}

function toStat(node: NodeRow): FsStat {
  return {
    isFile: node.type === "file",
    isDirectory: node.type === "dir",
    isSymbolicLink: node.type === "symlink",
    mode: node.mode,
    size: node.size,
    mtime: new Date(node.mtime),
    dev: 1,
    ino: node.rowid,
  };
}

/**
 * The write side of SqliteFs: where a write lands, replacing a file's content, creating
 * directories, copying entries and trees. Callers run these inside one transaction per operation
 * (SqliteFs.transaction), so a failure part-way leaves nothing behind.
 */
import { allocateBlob, copyBlob, deleteBlob } from "./chunks.ts";
import { isDevicePath } from "./devices.ts";
import { fsError } from "./fs-errors.ts";
import type { NodeStore, Resolved } from "./node-store.ts";
import { dirname, joinPath, resolvePath, segments } from "./paths.ts";
import { addUsage } from "./quota.ts";
import { DIR_MODE, FILE_MODE, type NodeRow } from "./schema.ts";

export class TreeWriter {
  private readonly nodes: NodeStore;
  private readonly now: () => number;

  constructor(nodes: NodeStore, now: () => number) {
    this.nodes = nodes;
    this.now = now;
  }

  /**
   * Where a write to `path` lands (following symlinks), creating missing parent directories unless
   * `createParents` is false; null for a device, which swallows writes.
   */
  writeTarget(path: string, op: string, createParents = true): Resolved | null {
    const target = this.nodes.resolve(path, op);
    if (isDevicePath(target.path)) {
      if (target.node?.type === "file") return null;
      throw fsError(target.node ? "EISDIR" : "EPERM", op, path);
    }
    if (target.node?.type === "dir") throw fsError("EISDIR", op, path);
    if (!target.node && createParents) this.mkdirp(dirname(target.path), path);
    return target;
  }

  /** Points `path` at a freshly written blob, replacing (and freeing) whatever content it had. */
  putFile(path: string, old: NodeRow | undefined, blob: number, size: number): void {
    if (old) {
      deleteBlob(this.nodes.sql, old.blob);
      this.nodes.sql.exec(
        "UPDATE fs_nodes SET blob = ?, size = ?, mtime = ? WHERE path = ?",
        blob,
        size,
        this.now(),
        path,
      );
      addUsage(this.nodes.sql, size - old.size);
    } else {
      this.nodes.insert(path, { type: "file", mode: FILE_MODE, mtime: this.now(), size, blob });
      addUsage(this.nodes.sql, size, 1);
    }
  }

  /** mkdir -p: walks down, creating what is missing; existing directories (or links to them) are fine. */
  mkdirp(path: string, shownPath: string): void {
    const wanted = segments(resolvePath("/", path));
    let current = "/";
    for (const [index, name] of wanted.entries()) {
      const candidate = joinPath(current, name);
      const { path: physical, node } = this.nodes.resolve(candidate, "mkdir");
      if (node) {
        if (node.type !== "dir") throw fsError(index === wanted.length - 1 ? "EEXIST" : "ENOTDIR", "mkdir", shownPath);
        current = physical;
        continue;
      }
      if (this.nodes.lookup(candidate)) throw fsError("EEXIST", "mkdir", shownPath); // a dangling symlink
      this.createDir(candidate, shownPath);
      current = candidate;
    }
  }

  createDir(path: string, shownPath: string): void {
    if (isDevicePath(path)) throw fsError("EPERM", "mkdir", shownPath);
    this.nodes.insert(path, { type: "dir", mode: DIR_MODE, mtime: this.now() });
  }

  /** Copies one file or symlink to `dest` (following a symlink at `dest`, as cp does). */
  copyEntry(source: NodeRow, dest: string): void {
    if (source.type === "symlink") {
      const { path, node } = this.nodes.resolve(dest, "cp", false);
      if (node?.type === "dir") throw fsError("EISDIR", "cp", dest);
      if (node) this.nodes.deleteSubtree(path);
      else this.mkdirp(dirname(path), dest);
      this.nodes.insert(path, {
        type: "symlink",
        mode: source.mode,
        mtime: this.now(),
        size: source.size,
        target: source.target,
      });
      addUsage(this.nodes.sql, source.size);
      return;
    }
    const target = this.writeTarget(dest, "cp");
    if (!target) return;
    const blob = source.blob === null ? allocateBlob(this.nodes.sql) : copyBlob(this.nodes.sql, source.blob);
    this.putFile(target.path, target.node, blob, source.size);
    this.nodes.sql.exec("UPDATE fs_nodes SET mode = ? WHERE path = ?", source.mode, target.path);
  }

  /** Copies a directory tree onto `to` (created when missing, merged into when it exists). */
  copyTree(from: string, to: Resolved, shownDest: string): void {
    for (const node of this.nodes.subtree(from)) {
      const path = node.path === from ? to.path : to.path + node.path.slice(from.length);
      if (node.type !== "dir") {
        this.copyEntry(node, path);
        continue;
      }
      const existing = this.nodes.resolve(path, "cp");
      if (existing.node?.type === "dir") continue;
      if (existing.node) throw fsError("ENOTDIR", "cp", shownDest);
      this.mkdirp(existing.path, shownDest);
      this.nodes.sql.exec("UPDATE fs_nodes SET mode = ? WHERE path = ?", node.mode, existing.path);
    }
  }
}

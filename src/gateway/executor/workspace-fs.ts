/**
 * One sandbox's workspace on the executor's machine, as just-bash's IFileSystem: the interface the
 * sandbox tools (src/sandbox/tools) are written against, so the executor runs the very same tools
 * as the edge, over real files. Paths are the sandbox's (`/workspace/...`) or the real directory's;
 * everything else is refused, and symlinks are checked at each use (./workspace-paths.ts).
 *
 * Errors take the edge filesystem's form (`ENOENT: no such file or directory, open '/workspace/x'`,
 * src/sandbox/fs/fs-errors.ts) and name the path as the caller gave it, never the real directory.
 * Like the edge's filesystem it is also a RangedFs (files above 16 MiB are read and edited by
 * range, never loaded whole), so the tools' large-file paths behave the same.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import * as fsp from "node:fs/promises";
import type { BufferEncoding, CpOptions, FileContent, FsStat, IFileSystem, MkdirOptions, RmOptions } from "just-bash";
import { fsError } from "../../sandbox/fs/fs-errors.ts";
import { fileTooLarge, type RangedFs, type Splice, WHOLE_FILE_MAX_BYTES } from "../../sandbox/fs/large-files.ts";
import { resolvePath } from "../../sandbox/fs/paths.ts";
import { fromNodeError } from "./node-fs-errors.ts";
import { spliceFile } from "./splice-file.ts";
import { resolveInWorkspace, toSandboxPath } from "./workspace-paths.ts";

type ReadFileOptions = Exclude<Parameters<IFileSystem["readFile"]>[1], BufferEncoding | undefined>;
type WriteFileOptions = Exclude<Parameters<IFileSystem["writeFile"]>[2], BufferEncoding | undefined>;
type DirentEntry = Awaited<ReturnType<NonNullable<IFileSystem["readdirWithFileTypes"]>>>[number];

/** Opening a FIFO for reading would wait for a writer forever; non-blocking, it opens at once. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
const APPEND_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;

export class WorkspaceFs implements IFileSystem, RangedFs {
  /** The workspace's real path, symlinks resolved (the executor creates it before use). */
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The checked real path for `path` (see resolveInWorkspace), errors in the edge's form. */
  real(path: string, op: string, follow = true): Promise<string> {
    return this.#run(op, path, () => resolveInWorkspace(this.root, path, op, follow));
  }

  async readFile(path: string, options?: ReadFileOptions | BufferEncoding): Promise<string> {
    const bytes = await this.readFileBuffer(path);
    const encoding = (typeof options === "string" ? options : options?.encoding) ?? "utf8";
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
  }

  async readFileBuffer(path: string): Promise<Uint8Array> {
    const real = await this.real(path, "open");
    return this.#run("open", path, async () => {
      const handle = await fsp.open(real, READ_FLAGS);
      try {
        const stat = await handle.stat();
        if (stat.isDirectory()) throw fsError("EISDIR", "read", path);
        if (!stat.isFile()) throw fsError("EINVAL", "read", path, "not a regular file");
        if (stat.size > WHOLE_FILE_MAX_BYTES) throw fileTooLarge("open", path, stat.size);
        return new Uint8Array(await handle.readFile());
      } finally {
        await handle.close();
      }
    });
  }

  async writeFile(path: string, content: FileContent, options?: WriteFileOptions | BufferEncoding): Promise<void> {
    await this.#write(path, content, options, WRITE_FLAGS);
  }

  async appendFile(path: string, content: FileContent, options?: WriteFileOptions | BufferEncoding): Promise<void> {
    await this.#write(path, content, options, APPEND_FLAGS);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async stat(path: string): Promise<FsStat> {
    const real = await this.real(path, "stat");
    return this.#run("stat", path, async () => toFsStat(await fsp.stat(real)));
  }

  async lstat(path: string): Promise<FsStat> {
    const real = await this.real(path, "lstat", false);
    return this.#run("lstat", path, async () => toFsStat(await fsp.lstat(real)));
  }

  async mkdir(path: string, options?: MkdirOptions): Promise<void> {
    const real = await this.real(path, "mkdir", false);
    await this.#run("mkdir", path, async () => {
      if (options?.recursive) {
        // mkdir -p succeeds on an existing directory, fails on anything else already there.
        const existing = await fsp.stat(real).catch(() => null);
        if (existing && !existing.isDirectory()) throw fsError("EEXIST", "mkdir", path);
      }
      await fsp.mkdir(real, { recursive: options?.recursive === true });
    });
  }

  async readdir(path: string): Promise<string[]> {
    return (await this.readdirWithFileTypes(path)).map((entry) => entry.name);
  }

  async readdirWithFileTypes(path: string): Promise<DirentEntry[]> {
    const real = await this.real(path, "scandir");
    return this.#run("scandir", path, async () => {
      const entries = await fsp.readdir(real, { withFileTypes: true });
      return entries
        .map((entry) => ({
          name: entry.name,
          isFile: entry.isFile(),
          isDirectory: entry.isDirectory(),
          isSymbolicLink: entry.isSymbolicLink(),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  async rm(path: string, options?: RmOptions): Promise<void> {
    const real = await this.real(path, "rm", false);
    if (real === this.root) throw fsError("EPERM", "rm", path, "the workspace itself cannot be removed");
    await this.#run("rm", path, async () => {
      const stat = await fsp.lstat(real).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" && options?.force) return null;
        throw error;
      });
      if (!stat) return;
      if (stat.isDirectory() && !options?.recursive) await fsp.rmdir(real);
      else await fsp.rm(real, { recursive: options?.recursive === true, force: options?.force === true });
    });
  }

  async cp(src: string, dest: string, options?: CpOptions): Promise<void> {
    const from = await this.real(src, "cp");
    // Followed: copying onto a link writes where it points, so that must be checked too.
    const to = await this.real(dest, "cp");
    await this.#run("cp", src, async () => {
      const stat = await fsp.stat(from);
      if (stat.isDirectory() && !options?.recursive) throw fsError("EISDIR", "cp", src);
      // Links inside a copied tree are copied as links, never followed out of the workspace.
      await fsp.cp(from, to, { recursive: options?.recursive === true, verbatimSymlinks: true });
    });
  }

  async mv(src: string, dest: string): Promise<void> {
    const from = await this.real(src, "rename", false);
    const to = await this.real(dest, "rename", false);
    if (from === this.root) throw fsError("EPERM", "rename", src, "the workspace itself cannot be moved");
    await this.#run("rename", src, () => fsp.rename(from, to));
  }

  resolvePath(base: string, path: string): string {
    return resolvePath(base, path);
  }

  /** The whole tree, synchronously, is what just-bash asks for glob completion: a real tree may be huge, so none. */
  getAllPaths(): string[] {
    return [];
  }

  async chmod(path: string, mode: number): Promise<void> {
    const real = await this.real(path, "chmod");
    await this.#run("chmod", path, () => fsp.chmod(real, mode & 0o7777));
  }

  /** The target is stored as given; following it later is checked like any other path. */
  async symlink(target: string, linkPath: string): Promise<void> {
    const real = await this.real(linkPath, "symlink", false);
    await this.#run("symlink", linkPath, () => fsp.symlink(target, real));
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    const from = await this.real(existingPath, "link", false);
    const to = await this.real(newPath, "link", false);
    await this.#run("link", existingPath, () => fsp.link(from, to));
  }

  async readlink(path: string): Promise<string> {
    const real = await this.real(path, "readlink", false);
    return this.#run("readlink", path, () => fsp.readlink(real));
  }

  async realpath(path: string): Promise<string> {
    const real = await this.real(path, "realpath");
    await this.#run("realpath", path, () => fsp.lstat(real));
    return toSandboxPath(this.root, real);
  }

  async utimes(path: string, atime: Date, mtime: Date): Promise<void> {
    const real = await this.real(path, "utime");
    await this.#run("utime", path, () => fsp.utimes(real, atime, mtime));
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const real = await this.real(path, "read");
    return this.#run("read", path, async () => {
      const handle = await fsp.open(real, READ_FLAGS);
      try {
        const buffer = new Uint8Array(Math.max(0, length));
        let filled = 0;
        while (filled < buffer.byteLength) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      } finally {
        await handle.close();
      }
    });
  }

  async splice(path: string, edits: readonly Splice[]): Promise<number> {
    const real = await this.real(path, "write");
    return this.#run("write", path, () => spliceFile(real, edits));
  }

  /**
   * Appends go to the file itself; a whole write goes to a sibling temporary file renamed over the
   * target, so a failure midway (disk full) leaves the previous content, as the edge's
   * transactional filesystem does. (A hard-linked file thus gets a new inode on overwrite.)
   */
  async #write(
    path: string,
    content: FileContent,
    options: WriteFileOptions | BufferEncoding | undefined,
    flags: number,
  ): Promise<void> {
    const real = await this.real(path, "open");
    const encoding = (typeof options === "string" ? options : options?.encoding) ?? "utf8";
    const bytes = typeof content === "string" ? Buffer.from(content, encoding) : content;
    await this.#run("open", path, async () => {
      const existing = await fsp.stat(real).catch(() => null);
      if (existing?.isDirectory()) throw fsError("EISDIR", "open", path);
      if (flags === APPEND_FLAGS || !existing) {
        await fsp.writeFile(real, bytes, { flag: flags, mode: 0o644 });
        return;
      }
      const temp = `${real.slice(0, real.lastIndexOf("/"))}/.tether-write-${randomBytes(6).toString("hex")}`;
      try {
        await fsp.writeFile(temp, bytes, { flag: "wx", mode: existing.mode & 0o7777 });
        await fsp.chmod(temp, existing.mode & 0o7777);
        await fsp.rename(temp, real);
      } catch (error) {
        await fsp.rm(temp, { force: true });
        throw error;
      }
    });
  }

  /** Runs one real operation; Node's errors become the edge filesystem's, naming `path`. */
  async #run<T>(op: string, path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw fromNodeError(error, op, path);
    }
  }
}

function toFsStat(stat: import("node:fs").Stats): FsStat {
  return {
    isFile: stat.isFile(),
    isDirectory: stat.isDirectory(),
    isSymbolicLink: stat.isSymbolicLink(),
    mode: stat.mode & 0o7777,
    size: stat.size,
    mtime: stat.mtime,
    dev: stat.dev,
    ino: stat.ino,
  };
}

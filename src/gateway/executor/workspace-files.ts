/**
 * The files API on a real workspace (PUT/GET/DELETE `/sandboxes/ID/files/PATH`, and the tar
 * export), with the edge's semantics (durable-objects/sandbox/staging.ts): bodies stream both ways
 * and are never held whole in memory.
 *
 * An upload is written to a temporary file in the executor's scratch directory (`DIR/.tether-tmp`,
 * on the same filesystem as every workspace) and renamed over the target only once complete: an
 * upload that fails, is aborted, or fills the disk leaves the previous file exactly as it was, and
 * its temporary file is removed.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import * as fsp from "node:fs/promises";
import { isTetherError, TetherError } from "../../errors/tether-error.ts";
import type { ExecutorPutResult } from "../../protocol/executor-api.ts";
import { isFsError } from "../../sandbox/fs/fs-errors.ts";
import { exportTar, type TarTree, type TarTreeEntry } from "../../sandbox/tar-export.ts";
import { isDiskFull } from "./node-fs-errors.ts";
import type { WorkspaceFs } from "./workspace-fs.ts";
import { toSandboxPath } from "./workspace-paths.ts";
import { writeAll } from "./write-all.ts";

const READ_CHUNK_BYTES = 256 * 1024;
/** Non-blocking: a FIFO opens at once (and is then refused) instead of waiting for a writer. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Streams `body` into the file at `path` (parents created like `mkdir -p`), atomically. */
export async function putFile(
  fs: WorkspaceFs,
  scratch: string,
  path: string,
  body: ReadableStream<Uint8Array> | null,
  mode?: number,
): Promise<ExecutorPutResult> {
  path = fs.resolvePath("/", path);
  const temp = `${scratch}/put-${randomBytes(8).toString("hex")}`;
  try {
    const target = await fs.real(path, "open");
    const existing = await fsp.stat(target).catch(() => null);
    if (existing?.isDirectory()) throw new TetherError("bad_request", `${path} is a directory, not a file`);
    await fs.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
    const bytes = await writeStream(temp, body, mode ?? (existing ? existing.mode & 0o7777 : 0o644));
    // chmod again: the process umask may have narrowed the mode open() was given.
    await fsp.chmod(temp, mode ?? (existing ? existing.mode & 0o7777 : 0o644));
    // Checked again right before the rename: a link swapped in meanwhile is not written through.
    await fsp.rename(temp, await fs.real(path, "rename"));
    return { path, bytes, created: existing === null };
  } catch (error) {
    await body?.cancel().catch(() => {});
    await fsp.rm(temp, { force: true }).catch(() => {});
    throw asHttpError(error, path);
  }
}

async function writeStream(temp: string, body: ReadableStream<Uint8Array> | null, mode: number): Promise<number> {
  const handle = await fsp.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  let bytes = 0;
  try {
    if (body) {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read().catch((error: unknown) => {
          throw new TetherError("bad_request", `the upload stopped before its end: ${describe(error)}`, {
            cause: error,
          });
        });
        if (done) break;
        await writeAll(handle, value);
        bytes += value.byteLength;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return bytes;
}

/** The file's bytes, streamed a chunk at a time, with its length. */
export async function getFile(fs: WorkspaceFs, path: string): Promise<Response> {
  try {
    const real = await fs.real(path, "open");
    const handle = await fsp.open(real, READ_FLAGS).catch((error) => {
      throw fromOpen(error, path);
    });
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw new TetherError("bad_request", `${path} is a directory, not a file`);
    }
    if (!stat.isFile()) {
      await handle.close();
      throw new TetherError("bad_request", `${path} is not a regular file`);
    }
    return new Response(fileStream(handle, stat.size), {
      headers: { "content-type": "application/octet-stream", "content-length": String(stat.size) },
    });
  } catch (error) {
    throw asHttpError(error, path);
  }
}

/** Exactly `size` bytes of the open file (the length announced), closing it at the end or on cancel. */
function fileStream(handle: fsp.FileHandle, size: number): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const want = Math.min(READ_CHUNK_BYTES, size - position);
        if (want <= 0) {
          await handle.close();
          controller.close();
          return;
        }
        const buffer = new Uint8Array(want);
        const { bytesRead } = await handle.read(buffer, 0, want, position);
        // A file cut short meanwhile is padded, so the body still matches its content-length.
        position += want;
        controller.enqueue(bytesRead === want ? buffer : buffer.fill(0, bytesRead));
      },
      async cancel() {
        await handle.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Removes a file, a symlink (not what it points to), or a directory with everything below it. */
export async function deleteFile(fs: WorkspaceFs, path: string): Promise<void> {
  try {
    await fs.rm(path, { recursive: true });
  } catch (error) {
    throw asHttpError(error, path);
  }
}

/** The workspace as a tar (entries named `workspace/...`, as at the edge); links are kept as links. */
export function exportWorkspace(fs: WorkspaceFs): ReadableStream<Uint8Array> {
  const tree: TarTree = {
    entries: () => walk(fs.root),
    async open(path) {
      const real = await fs.real(path, "open");
      const handle = await fsp.open(real, READ_FLAGS);
      return fileStream(handle, (await handle.stat()).size);
    },
  };
  async function* walk(real: string): AsyncGenerator<TarTreeEntry> {
    const stat = await fsp.lstat(real).catch(() => null);
    if (!stat) return;
    const path = toSandboxPath(fs.root, real);
    const common = { path, size: stat.size, mtime: stat.mtime, mode: stat.mode };
    if (stat.isSymbolicLink()) {
      yield { ...common, type: "symlink", size: 0, target: await fsp.readlink(real) };
    } else if (stat.isFile()) {
      yield { ...common, type: "file" };
    } else if (stat.isDirectory()) {
      yield { ...common, type: "directory", size: 0 };
      const names = (await fsp.readdir(real).catch(() => [] as string[])).sort();
      for (const name of names) yield* walk(`${real}/${name}`);
    }
    // Sockets, FIFOs and devices have no place in an archive of files.
  }
  return exportTar(tree);
}

/** Apparent bytes of the regular files below `real` (links not followed), like `du -b --apparent-size`. */
export async function treeBytes(real: string): Promise<number> {
  const stat = await fsp.lstat(real).catch(() => null);
  if (!stat) return 0;
  if (stat.isFile()) return stat.size;
  if (!stat.isDirectory()) return 0;
  let total = 0;
  for (const name of await fsp.readdir(real).catch(() => [] as string[])) total += await treeBytes(`${real}/${name}`);
  return total;
}

/** Filesystem failures become clear HTTP answers: 404 missing, 507 disk full, 400 the rest. */
export function asHttpError(error: unknown, path: string): unknown {
  if (isTetherError(error)) return error;
  if (isDiskFull(error))
    return new TetherError("quota_exceeded", `no space left on the executor's disk while writing ${path}`);
  if (isFsError(error, "ENOENT")) return new TetherError("not_found", error.message);
  if (isFsError(error, "EPERM")) return new TetherError("bad_request", error.message);
  if (isFsError(error)) return new TetherError("bad_request", error.message);
  return error;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fromOpen(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new TetherError("not_found", `ENOENT: no such file or directory, open '${path}'`);
  if (code === "ELOOP") return new TetherError("bad_request", `${path} changed while it was opened; try again`);
  return error;
}

import { isTetherError, TetherError } from "../../src/errors/tether-error.ts";
import { discardBody } from "../../src/http/discard-body.ts";
import { isFsError } from "../../src/sandbox/fs/fs-errors.ts";
import { quotaExceeded } from "../../src/sandbox/fs/quota.ts";
import type { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { WORKDIR } from "../../src/sandbox/tools/context.ts";
import { writeTextFile } from "../../src/sandbox/tools/files.ts";

/**
 * Raw file access for staging (`/v1/sandboxes/:id/files/<path>`, and a create request's initial
 * files): bodies stream into chunk rows and back out without being held in memory. `<path>` is
 * absolute from the sandbox's own root, so `files/workspace/a.txt` is `/workspace/a.txt`; `..` is
 * normalised and cannot leave the sandbox.
 */

/**
 * Bodies reach the object in small pieces (about 4 KiB each across RPC); the filesystem does some
 * bookkeeping per piece it is handed, so pieces are gathered into larger ones first.
 */
const STAGING_CHUNK_BYTES = 256 * 1024;

/**
 * A refused upload declared up to this size is read to its end, so the client can read the 507; a
 * larger one is cut off at once rather than waited for.
 */
const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;

export interface PutResult {
  path: string;
  bytes: number;
  created: boolean;
}

/**
 * Streams `body` into the file (parents created like `mkdir -p`). A declared length past the quota
 * is refused before a byte is stored (a body declared up to 16 MiB is read and dropped, so the
 * client can read the answer; a larger one is cut off); a body that grows past it while streaming is refused then. In
 * both cases the previous content (or absence) of the file stays exactly as it was.
 */
export async function putFile(
  fs: SqliteFs,
  path: string,
  body: ReadableStream<Uint8Array>,
  length: number | null,
  mode?: number,
): Promise<PutResult> {
  const target = fs.resolvePath("/", path);
  try {
    const existing = await fs.stat(target).catch(() => null);
    const used = fs.storedBytes();
    const headroom = fs.quotaBytes - used + (existing?.isFile ? existing.size : 0);
    if (length !== null && length > headroom) {
      if (length <= REFUSED_BODY_DRAIN_BYTES) await discardBody(body, REFUSED_BODY_DRAIN_BYTES);
      throw quotaExceeded("write", target, fs.quotaBytes, used + length);
    }
    await fs.mkdir(parentOf(target), { recursive: true });
    const bytes = await fs.writeStream(target, body.pipeThrough(rechunk(STAGING_CHUNK_BYTES)));
    if (mode !== undefined) await fs.chmod(target, mode);
    return { path: target, bytes, created: existing === null };
  } catch (error) {
    await body.cancel().catch(() => {});
    throw asHttpError(error);
  }
}

export async function getFile(fs: SqliteFs, path: string): Promise<Response> {
  const target = fs.resolvePath("/", path);
  try {
    const stat = await fs.stat(target);
    if (stat.isDirectory) throw new TetherError("bad_request", `${target} is a directory, not a file`);
    return new Response(fs.readStream(target), {
      headers: { "content-type": "application/octet-stream", "content-length": String(stat.size) },
    });
  } catch (error) {
    throw asHttpError(error);
  }
}

/** The initial files of a create request (path → UTF-8 text; relative paths land in /workspace). */
export async function writeInitialFiles(fs: SqliteFs, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await writeTextFile(fs, fs.resolvePath(WORKDIR, path), content);
  }
}

/** Removes a file, a symlink, or a directory with everything below it. */
export async function deleteFile(fs: SqliteFs, path: string): Promise<void> {
  try {
    await fs.rm(fs.resolvePath("/", path), { recursive: true });
  } catch (error) {
    throw asHttpError(error);
  }
}

/** Filesystem errors become clear 4xx answers; quota errors already are TetherErrors (507). */
export function asHttpError(error: unknown): unknown {
  if (isTetherError(error)) return error;
  if (isFsError(error, "ENOENT")) return new TetherError("not_found", error.message);
  if (isFsError(error)) return new TetherError("bad_request", error.message);
  return error;
}

/** Regroups a byte stream into chunks of `size` bytes (the last one shorter). */
function rechunk(size: number): TransformStream<Uint8Array, Uint8Array> {
  let buffer = new Uint8Array(size);
  let filled = 0;
  return new TransformStream({
    transform(chunk, out) {
      for (let offset = 0; offset < chunk.byteLength; ) {
        const take = Math.min(size - filled, chunk.byteLength - offset);
        buffer.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === size) {
          out.enqueue(buffer);
          buffer = new Uint8Array(size);
          filled = 0;
        }
      }
    },
    flush(out) {
      if (filled > 0) out.enqueue(buffer.subarray(0, filled));
    },
  });
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

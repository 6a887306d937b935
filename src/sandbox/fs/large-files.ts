/**
 * What "large" means for the sandbox filesystem. A Durable Object has 128 MB of memory, and a file
 * read whole is held at least twice (bytes, then text). So no operation loads a file above
 * WHOLE_FILE_MAX_BYTES at once: SqliteFs refuses to, with an EFBIG error that says how to read a
 * part instead, and the tools and the shell's head, tail and wc read such files by range, one chunk
 * at a time.
 */
import type { IFileSystem } from "just-bash";
import { type FsError, fsError } from "./fs-errors.ts";
import { formatBytes } from "./quota.ts";

/** Largest file any operation reads (or rewrites) whole: 16 MiB. */
export const WHOLE_FILE_MAX_BYTES = 16 * 1024 * 1024;

/** How much a ranged reader asks for at a time. */
export const RANGE_READ_BYTES = 1024 * 1024;

/** Why a file of `size` bytes is not read whole, and what reads it in parts. */
export function tooLargeReason(size: number): string {
  return (
    `file too large to load whole (${formatBytes(size)}; the limit is ${formatBytes(WHOLE_FILE_MAX_BYTES)}): ` +
    "read part of it with head, tail, sed -n 'FROM,TOp', wc, or the read tool's view_range; search it with the grep tool"
  );
}

export function fileTooLarge(op: string, path: string, size: number): FsError {
  return fsError("EFBIG", op, path, tooLargeReason(size));
}

/** One replaced byte range: `deleteLength` bytes at `offset` give way to `insert`. */
export interface Splice {
  offset: number;
  deleteLength: number;
  insert: Uint8Array;
}

/** A filesystem that can read part of a file and replace byte ranges in place (SqliteFs). */
export interface RangedFs {
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Applies non-overlapping edits (offsets in the current content) atomically; resolves to the new size. */
  splice(path: string, edits: readonly Splice[]): Promise<number>;
}

export function isRangedFs(fs: IFileSystem): fs is IFileSystem & RangedFs {
  const candidate = fs as Partial<RangedFs>;
  return typeof candidate.readRange === "function" && typeof candidate.splice === "function";
}

/** Random access to one file's bytes. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * Random access to `path`: by range where the filesystem supports it and the file is larger than
 * one read; otherwise (a small file, or an in-memory filesystem in tests, which holds the bytes
 * anyway) over the whole content read once.
 */
export async function openByteSource(fs: IFileSystem, path: string, size: number): Promise<ByteSource> {
  if (isRangedFs(fs) && size > RANGE_READ_BYTES) {
    return { size, read: (offset, length) => fs.readRange(path, offset, length) };
  }
  const bytes = await fs.readFileBuffer(path);
  return { size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

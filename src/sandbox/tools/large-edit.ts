/**
 * Editing files above WHOLE_FILE_MAX_BYTES without loading them: occurrences are found by scanning
 * the file a chunk at a time, the change is applied as byte-range splices (only the chunk rows that
 * change are rewritten, src/sandbox/fs/splice.ts), and the snippet shown back is read from a small
 * window around the edit. Memory stays at a couple of chunks whatever the file's size.
 */
import type { FsStat, IFileSystem } from "just-bash";
import { TetherError } from "../../errors/tether-error.ts";
import {
  type ByteSource,
  isRangedFs,
  RANGE_READ_BYTES,
  type RangedFs,
  WHOLE_FILE_MAX_BYTES,
} from "../fs/large-files.ts";
import { snippetAround } from "./line-view.ts";
import { formatBytes } from "./truncate.ts";

/** Occurrences whose positions are kept (replace_all on a large file changes at most this many). */
export const LARGE_EDIT_MAX_MATCHES = 1000;
/** Bytes read on each side of an edit to show its snippet. */
const SNIPPET_WINDOW_BYTES = 16 * 1024;
const NEWLINE = 10;
const encoder = new TextEncoder();

export function isLargeFile(stat: FsStat): boolean {
  return stat.isFile && stat.size > WHOLE_FILE_MAX_BYTES;
}

/** The filesystem as a RangedFs, or a refusal that says how to change the file instead. */
export function rangedFor(fs: IFileSystem, path: string, stat: FsStat): IFileSystem & RangedFs {
  if (isRangedFs(fs)) return fs;
  throw new TetherError(
    "bad_request",
    `${path} is ${formatBytes(stat.size)}, over the ${formatBytes(WHOLE_FILE_MAX_BYTES)} this filesystem edits whole`,
  );
}

export function sourceOf(fs: IFileSystem & RangedFs, path: string, size: number): ByteSource {
  return { size, read: (offset, length) => fs.readRange(path, offset, length) };
}

export interface Occurrences {
  /** All non-overlapping occurrences. */
  count: number;
  /** Byte offsets of the first LARGE_EDIT_MAX_MATCHES of them. */
  offsets: number[];
  /** Their 1-based line numbers. */
  lines: number[];
}

/** Finds `needle` (non-overlapping, left to right) in the file, one chunk at a time. */
export async function findOccurrencesIn(source: ByteSource, needle: string): Promise<Occurrences> {
  const bytes = encoder.encode(needle);
  const found: Occurrences = { count: 0, offsets: [], lines: [] };
  let carry = new Uint8Array(0);
  let next = 0; // the earliest offset a new occurrence may start at (after the last one)
  let line = 1;
  let counted = 0; // newlines before this offset are in `line`
  for (let offset = 0; offset < source.size; ) {
    const chunk = await source.read(offset, RANGE_READ_BYTES);
    if (chunk.byteLength === 0) break;
    offset += chunk.byteLength;
    const window = concat(carry, chunk);
    const start = offset - window.byteLength;
    const countTo = (to: number) => {
      line += countNewlines(window, counted - start, to - start);
      counted = to;
    };
    for (let at = indexOfBytes(window, bytes, Math.max(0, next - start)); at !== -1; ) {
      const position = start + at;
      found.count++;
      if (found.offsets.length < LARGE_EDIT_MAX_MATCHES) {
        countTo(position);
        found.offsets.push(position);
        found.lines.push(line);
      }
      next = position + bytes.byteLength;
      at = indexOfBytes(window, bytes, at + bytes.byteLength);
    }
    const keep = Math.min(bytes.byteLength - 1, window.byteLength);
    if (found.offsets.length < LARGE_EDIT_MAX_MATCHES) countTo(Math.max(counted, offset - keep));
    carry = window.slice(window.byteLength - keep);
  }
  return found;
}

/** Replaces the occurrences at `offsets` (each `oldText` long) with `newText`, atomically. */
export async function replaceAt(
  fs: IFileSystem & RangedFs,
  path: string,
  offsets: readonly number[],
  oldText: string,
  newText: string,
): Promise<void> {
  const deleteLength = encoder.encode(oldText).byteLength;
  const insert = encoder.encode(newText);
  await fs.splice(
    path,
    offsets.map((offset) => ({ offset, deleteLength, insert })),
  );
}

/**
 * Where line `afterLine` ends (the offset just past its newline; 0 for line 0), how many lines the
 * file has and whether it ends with a newline, counted a chunk at a time.
 */
export async function lineBoundary(
  source: ByteSource,
  afterLine: number,
): Promise<{ offset: number | undefined; totalLines: number; endsWithNewline: boolean }> {
  let newlines = 0;
  let offset: number | undefined = afterLine === 0 ? 0 : undefined;
  let last = NEWLINE;
  for (let at = 0; at < source.size; ) {
    const chunk = await source.read(at, RANGE_READ_BYTES);
    if (chunk.byteLength === 0) break;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      newlines++;
      if (newlines === afterLine) offset = at + i + 1;
    }
    last = chunk[chunk.byteLength - 1] ?? NEWLINE;
    at += chunk.byteLength;
  }
  const endsWithNewline = source.size === 0 || last === NEWLINE;
  const totalLines = newlines + (endsWithNewline ? 0 : 1);
  if (offset === undefined && afterLine === totalLines) offset = source.size;
  return { offset, totalLines, endsWithNewline };
}

/**
 * Numbered lines around an edit at byte `offset` (on 1-based line `line`, `spanLines` lines long),
 * read from a window of the file rather than the whole of it.
 */
export async function snippetAt(source: ByteSource, offset: number, line: number, spanLines: number): Promise<string> {
  const from = Math.max(0, offset - SNIPPET_WINDOW_BYTES);
  let window = await source.read(from, offset - from + 2 * SNIPPET_WINDOW_BYTES);
  let windowStart = from;
  if (from > 0) {
    // Start at a whole line.
    const cut = window.indexOf(NEWLINE);
    if (cut !== -1 && windowStart + cut < offset) {
      window = window.subarray(cut + 1);
      windowStart += cut + 1;
    }
  }
  if (windowStart + window.byteLength < source.size) {
    // End at a whole line.
    const end = window.lastIndexOf(NEWLINE);
    if (end !== -1 && windowStart + end >= offset) window = window.subarray(0, end + 1);
  }
  const firstLine = line - countNewlines(window, 0, offset - windowStart);
  const text = new TextDecoder().decode(window);
  return snippetAround(text, line - firstLine, spanLines, firstLine);
}

function countNewlines(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE, from); i !== -1 && i < to; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  if (first === undefined) return -1;
  const lastStart = haystack.byteLength - needle.byteLength;
  for (let at = haystack.indexOf(first, from); at !== -1 && at <= lastStart; at = haystack.indexOf(first, at + 1)) {
    let i = 1;
    while (i < needle.byteLength && haystack[at + i] === needle[i]) i++;
    if (i === needle.byteLength) return at;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

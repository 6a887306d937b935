/**
 * Byte-range edits of a real file, for the tools' large-file edits (src/sandbox/tools/large-edit.ts):
 * the file is copied once into a sibling temporary file with the edits applied, a chunk at a time,
 * then renamed over the original. Memory stays at one chunk whatever the size, and a failure (disk
 * full) leaves the original untouched.
 */
import { randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import type { Splice } from "../../sandbox/fs/large-files.ts";
import { writeAll } from "./write-all.ts";

const COPY_CHUNK_BYTES = 1024 * 1024;

/** Applies non-overlapping `edits` (offsets in the current content); resolves to the new size. */
export async function spliceFile(real: string, edits: readonly Splice[]): Promise<number> {
  const sorted = [...edits].sort((a, b) => a.offset - b.offset);
  const temp = `${real.slice(0, real.lastIndexOf("/"))}/.tether-splice-${randomBytes(6).toString("hex")}`;
  const source = await fsp.open(real, "r");
  try {
    const stat = await source.stat();
    const out = await fsp.open(temp, "wx", stat.mode & 0o7777);
    let written = 0;
    try {
      let position = 0;
      for (const edit of sorted) {
        written += await copyRange(source, out, position, edit.offset);
        await writeAll(out, edit.insert);
        written += edit.insert.byteLength;
        position = edit.offset + edit.deleteLength;
      }
      written += await copyRange(source, out, position, stat.size);
    } finally {
      await out.close();
    }
    await fsp.rename(temp, real);
    return written;
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  } finally {
    await source.close();
  }
}

async function copyRange(source: fsp.FileHandle, out: fsp.FileHandle, from: number, to: number): Promise<number> {
  const buffer = new Uint8Array(COPY_CHUNK_BYTES);
  let position = from;
  while (position < to) {
    const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.byteLength, to - position), position);
    if (bytesRead === 0) break;
    await writeAll(out, buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return position - from;
}

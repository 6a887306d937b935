/**
 * Replacing a byte range of a stored file in place, rewriting only the chunk rows whose content
 * changes: an edit that keeps the length touches the chunks it covers; one that grows or shrinks
 * the file rewrites the chunks from the edit to the end (the bytes after it move). Memory stays at
 * a few chunks whatever the file's size, so a line near the end of a 300 MiB file is edited by
 * rewriting a chunk or two.
 *
 * Chunk j of the new content is built from the old content (before the edit, after it shifted by
 * `delta`) and the inserted bytes. The order of rewriting keeps every old chunk a new one still
 * needs intact until it has been read: a growing file is rewritten from its end backwards (new
 * chunk j needs old bytes at or before j), a shrinking one from the edit forwards (new chunk j
 * needs old bytes at or after j). Callers run this inside the change's transaction.
 */
import { run } from "../../storage/sql.ts";
import { readBlobRange } from "./chunks.ts";
import type { Splice } from "./large-files.ts";
import { CHUNK_SIZE } from "./schema.ts";

/** Applies `edit` to the blob (content `size` bytes long) and returns the new size. */
export function spliceBlob(sql: SqlStorage, blob: number, size: number, edit: Splice): number {
  const { offset, deleteLength, insert } = edit;
  const delta = insert.byteLength - deleteLength;
  const newSize = size + delta;
  const firstSeq = Math.floor(offset / CHUNK_SIZE);
  const newLastSeq = newSize === 0 ? -1 : Math.floor((newSize - 1) / CHUNK_SIZE);
  const insertEnd = offset + insert.byteLength;
  // Same length: only the chunks the inserted bytes cover change.
  const lastSeq = delta === 0 ? Math.floor((Math.max(insertEnd, offset + 1) - 1) / CHUNK_SIZE) : newLastSeq;

  const oldBytes = (from: number, to: number) => readBlobRange(sql, blob, size, from, to - from);
  const build = (seq: number): Uint8Array => {
    const start = seq * CHUNK_SIZE;
    const end = Math.min(newSize, start + CHUNK_SIZE);
    const out = new Uint8Array(end - start);
    if (start < offset) out.set(oldBytes(start, Math.min(end, offset)), 0);
    const insFrom = Math.max(start, offset);
    const insTo = Math.min(end, insertEnd);
    if (insTo > insFrom) out.set(insert.subarray(insFrom - offset, insTo - offset), insFrom - start);
    const tailFrom = Math.max(start, insertEnd);
    if (end > tailFrom) out.set(oldBytes(tailFrom - delta, end - delta), tailFrom - start);
    return out;
  };
  const write = (seq: number) =>
    run(
      sql,
      "INSERT OR REPLACE INTO fs_chunks (blob, seq, data) VALUES (?, ?, ?)",
      blob,
      seq,
      build(seq).buffer as ArrayBuffer,
    );

  if (delta > 0) for (let seq = lastSeq; seq >= firstSeq; seq--) write(seq);
  else for (let seq = firstSeq; seq <= lastSeq; seq++) write(seq);
  if (delta < 0) run(sql, "DELETE FROM fs_chunks WHERE blob = ? AND seq > ?", blob, newLastSeq);
  return newSize;
}

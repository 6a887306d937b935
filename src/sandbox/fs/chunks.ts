/**
 * File content as numbered chunk rows (see schema.ts). A blob id names one file body; bodies are
 * never shared between nodes, so deleting a node deletes its blob.
 */
import { all, first, run } from "../../storage/sql.ts";
import { CHUNK_SIZE } from "./schema.ts";

/** Copies a byte range into its own ArrayBuffer, the type SQLite binds as a BLOB. */
function toBlobValue(bytes: Uint8Array, start = 0, end = bytes.byteLength): ArrayBuffer {
  return bytes.slice(start, end).buffer as ArrayBuffer;
}

export function allocateBlob(sql: SqlStorage): number {
  const row = first<{ value: number }>(
    sql,
    "INSERT INTO fs_meta (key, value) VALUES ('next_blob', 2) ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value",
  );
  return (row?.value ?? 2) - 1;
}

/** Writes `bytes` as chunks `startSeq`, `startSeq + 1`, … of `blob`. */
export function writeChunks(sql: SqlStorage, blob: number, bytes: Uint8Array, startSeq = 0): number {
  let seq = startSeq;
  for (let offset = 0; offset < bytes.byteLength; offset += CHUNK_SIZE) {
    run(
      sql,
      "INSERT INTO fs_chunks (blob, seq, data) VALUES (?, ?, ?)",
      blob,
      seq++,
      toBlobValue(bytes, offset, offset + CHUNK_SIZE),
    );
  }
  return seq;
}

/** Appends to a blob whose content is `size` bytes long, topping up its last chunk first. */
export function appendChunks(sql: SqlStorage, blob: number, size: number, bytes: Uint8Array): void {
  if (bytes.byteLength === 0) return;
  let rest = bytes;
  const lastSeq = size === 0 ? -1 : Math.floor((size - 1) / CHUNK_SIZE);
  const lastLength = size - lastSeq * CHUNK_SIZE;
  if (lastSeq >= 0 && lastLength < CHUNK_SIZE) {
    const last = readChunk(sql, blob, lastSeq) ?? new Uint8Array(0);
    const room = CHUNK_SIZE - last.byteLength;
    const merged = new Uint8Array(last.byteLength + Math.min(room, rest.byteLength));
    merged.set(last);
    merged.set(rest.subarray(0, room), last.byteLength);
    run(sql, "UPDATE fs_chunks SET data = ? WHERE blob = ? AND seq = ?", toBlobValue(merged), blob, lastSeq);
    rest = rest.subarray(room);
  }
  writeChunks(sql, blob, rest, lastSeq + 1);
}

export function readChunk(sql: SqlStorage, blob: number, seq: number): Uint8Array | undefined {
  const row = first<{ data: ArrayBuffer }>(sql, "SELECT data FROM fs_chunks WHERE blob = ? AND seq = ?", blob, seq);
  return row ? new Uint8Array(row.data) : undefined;
}

export function readBlob(sql: SqlStorage, blob: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const row of all<{ data: ArrayBuffer }>(sql, "SELECT data FROM fs_chunks WHERE blob = ? ORDER BY seq", blob)) {
    const chunk = new Uint8Array(row.data);
    out.set(chunk.subarray(0, size - offset), offset);
    offset += chunk.byteLength;
  }
  return offset >= size ? out : out.subarray(0, offset);
}

/** Copies a blob row by row inside SQLite (no file body passes through JavaScript). */
export function copyBlob(sql: SqlStorage, from: number): number {
  const to = allocateBlob(sql);
  run(sql, "INSERT INTO fs_chunks (blob, seq, data) SELECT ?, seq, data FROM fs_chunks WHERE blob = ?", to, from);
  return to;
}

export function deleteBlob(sql: SqlStorage, blob: number | null): void {
  if (blob !== null) run(sql, "DELETE FROM fs_chunks WHERE blob = ?", blob);
}

/** Bytes `[offset, offset + length)` of a blob whose content is `size` bytes long (clipped to it). */
export function readBlobRange(sql: SqlStorage, blob: number, size: number, offset: number, length: number): Uint8Array {
  const end = Math.min(size, offset + length);
  if (end <= offset) return new Uint8Array(0);
  const out = new Uint8Array(end - offset);
  for (const row of all<{ seq: number; data: ArrayBuffer }>(
    sql,
    "SELECT seq, data FROM fs_chunks WHERE blob = ? AND seq BETWEEN ? AND ? ORDER BY seq",
    blob,
    Math.floor(offset / CHUNK_SIZE),
    Math.floor((end - 1) / CHUNK_SIZE),
  )) {
    const chunkStart = row.seq * CHUNK_SIZE;
    const chunk = new Uint8Array(row.data);
    const from = Math.max(offset, chunkStart);
    const to = Math.min(end, chunkStart + chunk.byteLength);
    if (to > from) out.set(chunk.subarray(from - chunkStart, to - chunkStart), from - offset);
  }
  return out;
}

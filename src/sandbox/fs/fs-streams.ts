/**
 * Streaming in and out of chunk rows, for staging files over HTTP and exporting the tree, without
 * holding a whole file in memory.
 */
import { all, run } from "../../storage/sql.ts";
import { allocateBlob, deleteBlob, readChunk } from "./chunks.ts";
import { CHUNK_SIZE, NODE_COLUMNS, type NodeRow } from "./schema.ts";

export interface WalkEntry {
  /** Absolute path in the sandbox. */
  path: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  mtime: Date;
  /** Content bytes (files), target length (symlinks), 0 (directories). */
  size: number;
  /** Symlink target, as written. */
  target?: string;
}

const WALK_PAGE = 500;

/** Every stored entry below `/` in path order, which puts parents before their children. */
export async function* walk(sql: SqlStorage): AsyncGenerator<WalkEntry> {
  let after = "/";
  for (;;) {
    const rows = all<NodeRow>(
      sql,
      `SELECT ${NODE_COLUMNS} FROM fs_nodes WHERE path > ? ORDER BY path LIMIT ${WALK_PAGE}`,
      after,
    );
    for (const row of rows) {
      const entry: WalkEntry = {
        path: row.path,
        type: row.type === "dir" ? "directory" : row.type,
        mode: row.mode,
        mtime: new Date(row.mtime),
        size: row.size,
      };
      if (row.type === "symlink") entry.target = row.target ?? "";
      yield entry;
    }
    const last = rows.at(-1);
    if (!last || rows.length < WALK_PAGE) return;
    after = last.path;
  }
}

/**
 * A file's content, one chunk row per pull. A file replaced while it streams gets a new blob, so
 * the reader sees the old content or, once the old rows are gone, an early end: never a mix.
 */
export function readStream(sql: SqlStorage, node: NodeRow): ReadableStream<Uint8Array> {
  const chunks = Math.ceil(node.size / CHUNK_SIZE);
  let seq = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = node.blob === null || seq >= chunks ? undefined : readChunk(sql, node.blob, seq++);
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

export interface StreamSink {
  sql: SqlStorage;
  quotaBytes: number;
  /** Bytes the file may reach right now without passing the quota. */
  headroom(): number;
  exceeded(needed: number): Error;
  /** Atomically points the file at the filled blob and takes the blob off fs_pending. */
  commit(blob: number, size: number): void;
}

/** Fills a pending blob from `body` chunk row by chunk row, then commits it; cleans up on failure. */
export async function writeStream(body: ReadableStream<Uint8Array>, sink: StreamSink): Promise<number> {
  const { sql } = sink;
  const blob = allocateBlob(sql);
  run(sql, "INSERT INTO fs_pending (blob) VALUES (?)", blob);
  const reader = body.getReader();
  const buffer = new Uint8Array(CHUNK_SIZE);
  let buffered = 0;
  let seq = 0;
  let size = 0;
  const flush = () => {
    if (buffered === 0) return;
    run(sql, "INSERT INTO fs_chunks (blob, seq, data) VALUES (?, ?, ?)", blob, seq++, buffer.slice(0, buffered).buffer);
    buffered = 0;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > sink.headroom()) throw sink.exceeded(size);
      for (let offset = 0; offset < value.byteLength; ) {
        const take = Math.min(CHUNK_SIZE - buffered, value.byteLength - offset);
        buffer.set(value.subarray(offset, offset + take), buffered);
        buffered += take;
        offset += take;
        if (buffered === CHUNK_SIZE) flush();
      }
    }
    flush();
    sink.commit(blob, size);
    return size;
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    deleteBlob(sql, blob);
    run(sql, "DELETE FROM fs_pending WHERE blob = ?", blob);
    throw error;
  }
}

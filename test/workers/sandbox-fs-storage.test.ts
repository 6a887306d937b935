import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { isTetherError } from "../../src/errors/tether-error.ts";
import { recountUsage } from "../../src/sandbox/fs/quota.ts";
import { CHUNK_SIZE } from "../../src/sandbox/fs/schema.ts";
import { SqliteFs, type SqliteFsOptions, type WalkEntry } from "../../src/sandbox/fs/sqlite-fs.ts";

// How SqliteFs stores bytes: chunk rows, quota, streams, persistence across instances.
function freshStub(): DurableObjectStub {
  return env.REGISTRY.get(env.REGISTRY.idFromName(`fs-storage-test-${crypto.randomUUID()}`));
}

function withFs<T>(run: (fs: SqliteFs, sql: SqlStorage) => Promise<T>, options?: SqliteFsOptions): Promise<T> {
  return runInDurableObject(freshStub(), (_instance, state) =>
    run(new SqliteFs(state.storage, options), state.storage.sql),
  );
}

function pattern(size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/** Byte equality without vitest's element-by-element diffing (seconds on megabytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function chunkRows(sql: SqlStorage, path: string): number {
  const row = sql
    .exec<{ n: number }>(
      "SELECT COUNT(*) AS n FROM fs_chunks WHERE blob = (SELECT blob FROM fs_nodes WHERE path = ?)",
      path,
    )
    .one();
  return row.n;
}

function allChunkRows(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM fs_chunks").one().n;
}

/** A body delivered in uneven pieces, optionally failing after `failAfter` bytes. */
function body(bytes: Uint8Array, piece = 300_001, failAfter = Number.POSITIVE_INFINITY): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= failAfter) return controller.error(new Error("client went away"));
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + piece));
      offset += piece;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of stream) {
    parts.push(part);
    size += part.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

describe("chunked storage", () => {
  test("a 5 MiB file is stored as 1 MiB chunk rows and reads back byte for byte", () =>
    withFs(async (fs, sql) => {
      const data = pattern(5 * CHUNK_SIZE + 123);
      await fs.writeFile("/workspace/big.bin", data);
      expect(chunkRows(sql, "/workspace/big.bin")).toBe(6);
      expect(same(await fs.readFileBuffer("/workspace/big.bin"), data)).toBe(true);
      expect((await fs.stat("/workspace/big.bin")).size).toBe(data.byteLength);
      expect(fs.usage()).toEqual({ bytes: data.byteLength, files: 1 });
    }));

  test("appends top up the last chunk, then add rows", () =>
    withFs(async (fs, sql) => {
      const first = pattern(CHUNK_SIZE - 10, 1);
      const second = pattern(CHUNK_SIZE + 20, 2);
      await fs.writeFile("/workspace/log", first);
      await fs.appendFile("/workspace/log", second);
      expect(chunkRows(sql, "/workspace/log")).toBe(3);
      const expected = new Uint8Array(first.byteLength + second.byteLength);
      expected.set(first);
      expected.set(second, first.byteLength);
      expect(same(await fs.readFileBuffer("/workspace/log"), expected)).toBe(true);
    }));

  test("overwriting and deleting free the old rows", () =>
    withFs(async (fs, sql) => {
      await fs.writeFile("/workspace/f", pattern(3 * CHUNK_SIZE));
      await fs.writeFile("/workspace/f", "small");
      expect(allChunkRows(sql)).toBe(1);
      await fs.rm("/workspace/f");
      expect(allChunkRows(sql)).toBe(0);
      expect(fs.usage()).toEqual({ bytes: 0, files: 0 });
    }));

  test("counters match a recount after a mix of operations", () =>
    withFs(async (fs, sql) => {
      await fs.writeFile("/workspace/a/1", pattern(5000));
      await fs.appendFile("/workspace/a/1", "more");
      await fs.cp("/workspace/a", "/workspace/b", { recursive: true });
      await fs.symlink("/workspace/a/1", "/workspace/l");
      await fs.mv("/workspace/b", "/workspace/c");
      await fs.writeFile("/workspace/c/1", "x");
      await fs.link("/workspace/a/1", "/workspace/hard");
      await fs.rm("/workspace/a", { recursive: true });
      const counted = fs.usage();
      expect(recountUsage(sql)).toEqual(counted);
      expect(counted).toEqual({ bytes: 1 + 5004 + "/workspace/a/1".length, files: 2 });
    }));
});

describe("quota", () => {
  const quota = { quotaBytes: 1024 * 1024 };

  test("a write past the quota fails clearly and leaves the old content and usage as they were", () =>
    withFs(async (fs, sql) => {
      const old = pattern(600 * 1024);
      await fs.writeFile("/workspace/data", old);
      const before = fs.usage();
      const rowsBefore = allChunkRows(sql);
      const attempt = fs.writeFile("/workspace/data", pattern(2 * CHUNK_SIZE));
      await expect(attempt).rejects.toThrow(
        /ENOSPC: sandbox storage quota exceeded \(1 MiB; .*\), write '\/workspace\/data'/,
      );
      await attempt.catch((error) => {
        expect(isTetherError(error) && error.code === "quota_exceeded" && error.status === 507).toBe(true);
      });
      await expect(fs.appendFile("/workspace/data", pattern(500 * 1024))).rejects.toThrow("ENOSPC");
      await expect(fs.cp("/workspace/data", "/workspace/copy")).rejects.toThrow("ENOSPC");
      await expect(fs.writeFile("/workspace/new/dir/file", pattern(500 * 1024))).rejects.toThrow("ENOSPC");
      expect(same(await fs.readFileBuffer("/workspace/data"), old)).toBe(true);
      expect(fs.usage()).toEqual(before);
      expect(allChunkRows(sql)).toBe(rowsBefore);
      expect(await fs.exists("/workspace/copy")).toBe(false);
      expect(await fs.exists("/workspace/new")).toBe(false); // the failed write created no parents
      // Replacing within the quota still works.
      await fs.writeFile("/workspace/data", pattern(900 * 1024));
      expect(fs.usage().bytes).toBe(900 * 1024);
    }, quota));

  test("a streamed write past the quota stops mid-stream, old content intact, no rows left behind", () =>
    withFs(async (fs, sql) => {
      await fs.writeFile("/workspace/up.bin", "previous");
      const attempt = fs.writeStream("/workspace/up.bin", body(pattern(3 * CHUNK_SIZE)));
      await expect(attempt).rejects.toThrow("ENOSPC");
      expect(await fs.readFile("/workspace/up.bin")).toBe("previous");
      expect(fs.usage()).toEqual({ bytes: 8, files: 1 });
      expect(allChunkRows(sql)).toBe(1);
      expect(sql.exec("SELECT * FROM fs_pending").toArray()).toEqual([]);
    }, quota));
});

describe("streams, walk, lifecycle", () => {
  test("writeStream and readStream round-trip a file chunk by chunk", () =>
    withFs(async (fs, sql) => {
      const data = pattern(3 * CHUNK_SIZE + 5);
      expect(await fs.writeStream("/workspace/s.bin", body(data))).toBe(data.byteLength);
      expect(chunkRows(sql, "/workspace/s.bin")).toBe(4);
      expect(same(await collect(fs.readStream("/workspace/s.bin")), data)).toBe(true);
      expect(fs.usage()).toEqual({ bytes: data.byteLength, files: 1 });
      expect(() => fs.readStream("/workspace")).toThrow("EISDIR");
      expect(() => fs.readStream("/workspace/none")).toThrow("ENOENT");
    }));

  test("a body that fails mid-way leaves the old file and no partial rows", () =>
    withFs(async (fs, sql) => {
      await fs.writeFile("/workspace/s.bin", "old");
      await expect(
        fs.writeStream("/workspace/s.bin", body(pattern(3 * CHUNK_SIZE), 500_000, 1_500_000)),
      ).rejects.toThrow("client went away");
      expect(await fs.readFile("/workspace/s.bin")).toBe("old");
      expect(allChunkRows(sql)).toBe(1);
      await expect(fs.writeStream("/workspace", body(pattern(10)))).rejects.toThrow("EISDIR");
    }));

  test("walk lists every entry, parents before children, with symlink targets", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/a/b.txt", "b");
      await fs.writeFile("/workspace/a-b.txt", "ab");
      await fs.symlink("a/b.txt", "/workspace/ln");
      const entries: WalkEntry[] = [];
      for await (const entry of fs.walk()) entries.push(entry);
      expect(entries.map((e) => [e.path, e.type, e.size])).toEqual([
        ["/tmp", "directory", 0],
        ["/workspace", "directory", 0],
        ["/workspace/a", "directory", 0],
        ["/workspace/a-b.txt", "file", 2],
        ["/workspace/a/b.txt", "file", 1],
        ["/workspace/ln", "symlink", 7],
      ]);
      expect(entries.at(-1)?.target).toBe("a/b.txt");
      expect(entries[0]?.mtime).toBeInstanceOf(Date);
    }));

  test("deleteAll empties the tree back to its initial layout", () =>
    withFs(async (fs, sql) => {
      await fs.writeFile("/workspace/x/y", pattern(CHUNK_SIZE + 1));
      await fs.deleteAll();
      expect(await fs.readdir("/")).toEqual(["dev", "tmp", "workspace"]);
      expect(await fs.readdir("/workspace")).toEqual([]);
      expect(fs.usage()).toEqual({ bytes: 0, files: 0 });
      expect(allChunkRows(sql)).toBe(0);
    }));

  test("files survive eviction; an upload cut off by eviction leaves nothing behind", async () => {
    const stub = freshStub();
    await runInDurableObject(stub, async (_instance, state) => {
      const fs = new SqliteFs(state.storage);
      await fs.writeFile("/workspace/keep.txt", "kept");
      // What an interrupted stream leaves: a pending blob with rows.
      state.storage.sql.exec("INSERT INTO fs_pending (blob) VALUES (999)");
      state.storage.sql.exec("INSERT INTO fs_chunks (blob, seq, data) VALUES (999, 0, ?)", new ArrayBuffer(10));
    });
    await evictDurableObject(stub);
    await runInDurableObject(stub, async (_instance, state) => {
      const fs = new SqliteFs(state.storage);
      expect(await fs.readFile("/workspace/keep.txt")).toBe("kept");
      expect(allChunkRows(state.storage.sql)).toBe(1);
      expect(state.storage.sql.exec("SELECT * FROM fs_pending").toArray()).toEqual([]);
      expect(fs.usage()).toEqual({ bytes: 4, files: 1 });
    });
  });

  test("waking over an existing tree only reads, and restores the default directories if removed", async () => {
    const stub = freshStub();
    await runInDurableObject(stub, async (_instance, state) => {
      const fs = new SqliteFs(state.storage);
      await fs.writeFile("/workspace/keep.txt", "kept");
    });
    await evictDurableObject(stub);
    await runInDurableObject(stub, async (_instance, state) => {
      const statements = recordStatements(state.storage.sql);
      const fs = new SqliteFs({ sql: statements.sql, transactionSync: (run) => state.storage.transactionSync(run) });
      expect(statements.seen.length).toBeGreaterThan(0);
      expect(statements.seen.filter((query) => !/^\s*SELECT\b/i.test(query))).toEqual([]);
      expect(await fs.readFile("/workspace/keep.txt")).toBe("kept");
      await fs.rm("/tmp", { recursive: true });
    });
    await evictDurableObject(stub);
    await runInDurableObject(stub, async (_instance, state) => {
      const fs = new SqliteFs(state.storage);
      expect((await fs.stat("/tmp")).isDirectory).toBe(true);
      expect(await fs.readFile("/workspace/keep.txt")).toBe("kept");
    });
  });
});

/** A view of `sql` that records every statement run through it. */
function recordStatements(sql: SqlStorage): { sql: SqlStorage; seen: string[] } {
  const seen: string[] = [];
  const exec = (query: string, ...bindings: unknown[]) => {
    seen.push(query);
    return sql.exec(query, ...bindings);
  };
  return { sql: new Proxy(sql, { get: (target, key) => (key === "exec" ? exec : Reflect.get(target, key)) }), seen };
}

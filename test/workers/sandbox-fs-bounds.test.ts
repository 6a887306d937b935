import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { WHOLE_FILE_MAX_BYTES } from "../../src/sandbox/fs/large-files.ts";
import { LineReader } from "../../src/sandbox/fs/line-reader.ts";
import { CHUNK_SIZE } from "../../src/sandbox/fs/schema.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";

// SqliteFs within bounded memory: range reads and in-place splices (checked byte for byte against
// the same edits on an array, across chunk boundaries, growing and shrinking), the whole-file
// limit, the chunked line reader, and directories too large to list.
function inFs<T>(body: (fs: SqliteFs, sql: SqlStorage) => Promise<T>, quotaBytes?: number): Promise<T> {
  const stub = env.REGISTRY.get(env.REGISTRY.idFromName(`fs-bounds-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) =>
    body(new SqliteFs(state.storage, quotaBytes ? { quotaBytes } : {}), state.storage.sql),
  );
}

function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = 97 + ((i * 7 + (i >> 10)) % 26);
  return bytes;
}

function spliced(bytes: Uint8Array, offset: number, deleteLength: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength - deleteLength + insert.byteLength);
  out.set(bytes.subarray(0, offset));
  out.set(insert, offset);
  out.set(bytes.subarray(offset + deleteLength), offset + insert.byteLength);
  return out;
}

/** Where two byte arrays first differ (-1 when equal): deep equality of megabytes is too slow for expect. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

describe("SqliteFs ranges", { timeout: 60_000 }, () => {
  test("readRange returns exactly the bytes asked for, across chunks and clipped at the end", () =>
    inFs(async (fs) => {
      const bytes = pattern(2 * CHUNK_SIZE + 100);
      await fs.writeFile("/f", bytes);
      for (const [offset, length] of [
        [0, 10],
        [CHUNK_SIZE - 5, 10],
        [CHUNK_SIZE * 2 + 90, 50],
        [5, CHUNK_SIZE * 2],
      ] as const) {
        expect(firstDifference(await fs.readRange("/f", offset, length), bytes.slice(offset, offset + length))).toBe(
          -1,
        );
      }
      expect((await fs.readRange("/f", bytes.byteLength + 1, 10)).byteLength).toBe(0);
    }));

  test("splices grow, shrink and keep the length, each leaving exactly the expected bytes", () =>
    inFs(async (fs) => {
      let expected = pattern(3 * CHUNK_SIZE + 12_345);
      await fs.writeFile("/f", expected);
      const edits: [number, number, Uint8Array][] = [
        [CHUNK_SIZE - 3, 6, pattern(20)], // grows across the first boundary
        [10, 0, pattern(CHUNK_SIZE + 17)], // grows by more than a chunk
        [2 * CHUNK_SIZE - 100, CHUNK_SIZE + 300, new Uint8Array([1, 2, 3])], // shrinks by more than a chunk
        [CHUNK_SIZE + 5, 4, new Uint8Array([9, 9, 9, 9])], // same length
        [0, 0, new Uint8Array(0)], // nothing
      ];
      for (const [offset, deleteLength, insert] of edits) {
        const size = await fs.splice("/f", [{ offset, deleteLength, insert }]);
        expected = spliced(expected, offset, deleteLength, insert);
        expect(size).toBe(expected.byteLength);
        expect(firstDifference(await fs.readFileBuffer("/f"), expected)).toBe(-1);
      }
      expect(fs.usage().bytes).toBe(expected.byteLength);
    }));

  test("several edits in one splice apply together; one that passes the quota leaves the file as it was", () =>
    inFs(async (fs) => {
      const bytes = pattern(CHUNK_SIZE + 10);
      await fs.writeFile("/f", bytes);
      const a = new Uint8Array([65]);
      await fs.splice("/f", [
        { offset: 5, deleteLength: 1, insert: a },
        { offset: CHUNK_SIZE + 2, deleteLength: 0, insert: a },
      ]);
      const expected = spliced(spliced(bytes, CHUNK_SIZE + 2, 0, a), 5, 1, a);
      expect(firstDifference(await fs.readFileBuffer("/f"), expected)).toBe(-1);
      await expect(fs.splice("/f", [{ offset: 0, deleteLength: 0, insert: pattern(CHUNK_SIZE) }])).rejects.toThrow(
        /ENOSPC: sandbox storage quota exceeded/,
      );
      expect(firstDifference(await fs.readFileBuffer("/f"), expected)).toBe(-1);
      await expect(fs.splice("/f", [{ offset: CHUNK_SIZE + 100, deleteLength: 1, insert: a }])).rejects.toThrow(
        /EINVAL/,
      );
    }, 2 * CHUNK_SIZE));

  test(`a file over ${WHOLE_FILE_MAX_BYTES / 1024 / 1024} MiB is not read whole; ranges still work`, () =>
    inFs(async (fs) => {
      await fs.writeFile("/big", new Uint8Array(WHOLE_FILE_MAX_BYTES + 1).fill(120));
      await expect(fs.readFile("/big")).rejects.toThrow(
        /^EFBIG: file too large to load whole \(16\.0 MiB; the limit is 16 MiB\)/,
      );
      expect(firstDifference(await fs.readRange("/big", WHOLE_FILE_MAX_BYTES - 1, 5), new Uint8Array([120, 120]))).toBe(
        -1,
      );
      await fs.writeFile("/edge", new Uint8Array(WHOLE_FILE_MAX_BYTES));
      expect((await fs.readFileBuffer("/edge")).byteLength).toBe(WHOLE_FILE_MAX_BYTES);
    }));

  test("the line reader splits like cat -n, across chunks, and bounds a huge line", () =>
    inFs(async (fs) => {
      const longLine = "y".repeat(3 * CHUNK_SIZE);
      const text = `a\n\n${"x".repeat(CHUNK_SIZE - 1)}\nb\n${longLine}\nlast`;
      await fs.writeFile("/t", text);
      const size = (await fs.stat("/t")).size;
      const reader = new LineReader({ size, read: (offset, length) => fs.readRange("/t", offset, length) });
      const lines: string[] = [];
      for (let batch = await reader.next(); batch; batch = await reader.next()) lines.push(...batch);
      expect(lines.length).toBe(6);
      expect(lines.slice(0, 4)).toEqual(["a", "", "x".repeat(CHUNK_SIZE - 1), "b"]);
      expect(lines[4]?.length).toBeLessThanOrEqual(2 * CHUNK_SIZE);
      expect(lines[4]?.startsWith("y".repeat(CHUNK_SIZE))).toBe(true);
      expect(lines[5]).toBe("last");
      const counter = new LineReader({ size, read: (offset, length) => fs.readRange("/t", offset, length) });
      await counter.next();
      expect(2 + (await counter.countRest())).toBe(6);
    }));
});

describe("a directory too large to list", { timeout: 60_000 }, () => {
  test("is refused by name instead of listed, and can still be removed whole", () =>
    inFs(async (fs, sql) => {
      await fs.mkdir("/workspace/huge");
      // 70,000 entries with 240-byte names, inserted by SQLite itself (a shell loop would take minutes).
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 70000)
         INSERT INTO fs_nodes (path, parent, type, mode, mtime) SELECT '/workspace/huge/' || printf('%0240d', i), '/workspace/huge', 'file', 420, 0 FROM n`,
      );
      await expect(fs.readdir("/workspace/huge")).rejects.toThrow(
        /^EFBIG: directory too large to list at once \(70000 entries\); remove it whole with rm -r/,
      );
      await fs.rm("/workspace/huge", { recursive: true });
      expect(await fs.exists("/workspace/huge")).toBe(false);
      expect(await fs.readdir("/workspace")).toEqual([]);
    }));
});

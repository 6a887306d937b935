/**
 * A session runner's record of its skills and memory stores in the Durable Object's SQLite: the
 * memory sync's baselines written through and read back by a new store over the same storage (what
 * a runner restarted after an eviction sees), the report shown as `resources`, and the wipe.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { ResourcesStore } from "../../durable-objects/session-runner/resources-store.ts";

async function withStorage(check: (sql: SqlStorage) => void): Promise<void> {
  const stub = env.SESSION_RUNNER.get(env.SESSION_RUNNER.idFromName(`resources-${crypto.randomUUID()}`));
  await runInDurableObject(stub, (_instance, state) => check(state.storage.sql));
}

describe("the runner's resources store", () => {
  test("baselines survive a new store over the same storage, per memory store; deletes and the wipe take them away", async () => {
    await withStorage((sql) => {
      const first = new ResourcesStore(sql);
      first.baseline.set("memstore_a", "notes/a.md", {
        memoryId: "mem_1",
        sha: "aa",
        stat: { size: 12, mtimeMs: 1_733_000_000_123.5 },
      });
      first.baseline.set("memstore_a", "b.md", { memoryId: "mem_2", sha: "bb", stat: null });
      first.baseline.set("memstore_b", "c.md", { memoryId: "mem_3", sha: "cc", stat: null });
      first.baseline.set("memstore_a", "b.md", { memoryId: "mem_2", sha: "b2", stat: null });

      const restarted = new ResourcesStore(sql);
      expect(Object.fromEntries(restarted.baseline.load("memstore_a"))).toEqual({
        "notes/a.md": { memoryId: "mem_1", sha: "aa", stat: { size: 12, mtimeMs: 1_733_000_000_123.5 } },
        "b.md": { memoryId: "mem_2", sha: "b2", stat: null },
      });
      restarted.baseline.delete("memstore_a", "notes/a.md");
      expect([...restarted.baseline.load("memstore_a").keys()]).toEqual(["b.md"]);
      expect([...restarted.baseline.load("memstore_b").keys()]).toEqual(["c.md"]);
      restarted.wipe();
      expect(restarted.baseline.load("memstore_b").size).toBe(0);
    });
  });

  test("the report, the sync status, a lost lease and the release are kept", async () => {
    await withStorage((sql) => {
      const store = new ResourcesStore(sql);
      expect(store.load()).toBeUndefined();
      store.forbidFinalPush(); // nothing prepared yet: nothing to mark
      const skills = {
        installed: [{ skillId: "s1", version: "v1", name: "one", path: "/workspace/skills/one", files: 1, bytes: 3 }],
        failed: [{ skillId: "s2", version: "latest", error: "404 not_found_error" }],
      };
      const stores = [{ type: "memory_store" as const, memory_store_id: "memstore_a", access: "read_write" }];
      const mounts = [{ storeId: "memstore_a", path: "/mnt/memory/memstore_a", access: "read_write" as const }];
      store.prepared(skills, stores, mounts, null);
      store.synced(42, { memstore_a: "503 api_error" });
      expect(new ResourcesStore(sql).load()).toEqual({
        skills,
        stores,
        mounts,
        memorySkipped: null,
        lastSyncAt: 42,
        syncErrors: { memstore_a: "503 api_error" },
        finalPush: true,
        released: false,
      });
      store.forbidFinalPush();
      store.released();
      expect(store.load()).toMatchObject({ finalPush: false, released: true });
      store.wipe();
      expect(store.load()).toBeUndefined();
    });
  });
});

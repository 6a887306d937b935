/**
 * Memory stores of a Managed Agents session, mounted in a sandbox (an in-memory SandboxFiles
 * double) and synced with the local stand-in for Anthropic's API over HTTP: the first download,
 * local creates/updates/deletes pushed with `content_sha256` preconditions, remote changes pulled,
 * read_only stores never pushed, conflicts kept on both sides, and memory skipped without a
 * sessions token. Syncs are called directly: nothing waits on time.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { NO_RETRY } from "../../src/managed-agents/api-client.ts";
import {
  MEMORY_SYNC_MIN_INTERVAL_MS,
  MemorySync,
  memorySyncIntervalMs,
} from "../../src/managed-agents/memory/memory-sync.ts";
import type { Baseline, BaselineStore } from "../../src/managed-agents/memory/store-sync.ts";
import type { Session } from "../../src/managed-agents/protocol.ts";
import { prepareSessionResources, releaseSessionResources } from "../../src/managed-agents/session-resources.ts";
import { InMemorySandboxFilesDouble } from "../helpers/in-memory-sandbox-files.ts";
import { sha256Hex } from "../stand-ins/anthropic-api/skills-memory.ts";
import {
  type AnthropicApiStandIn,
  type StandInEnvironment,
  startAnthropicApiStandIn,
} from "../stand-ins/anthropic-api-stand-in.ts";
import { buildZip } from "../stand-ins/zip.ts";

let api: AnthropicApiStandIn;
let env: StandInEnvironment;
let files: InMemorySandboxFilesDouble;
let logs: string[];
const log = (line: string) => logs.push(line);

beforeEach(async () => {
  api = await startAnthropicApiStandIn({ pingIntervalMs: 0 });
  env = api.createEnvironment();
  files = new InMemorySandboxFilesDouble();
  logs = [];
});
afterEach(() => api.close());

/** A session mounting the stores; answers its MemorySync (first download done) and the first report. */
async function openStores(stores: { memory_store_id: string; access?: string; mount_path?: string }[]) {
  const session = api.createSession(env.id, { memoryStores: stores });
  const credentials = { baseUrl: api.url, bearer: session.sessionsToken ?? "" };
  return MemorySync.open({
    credentials,
    stores: stores.map((s) => ({ type: "memory_store", ...s })),
    files,
    log,
    retry: NO_RETRY,
  });
}

const remoteByPath = (store: string) => Object.fromEntries(api.memories(store).map((m) => [m.path, m.content]));
const memoryWrites = () => api.calls.filter((c) => c.path.startsWith("/v1/memory_stores/") && c.method !== "GET");

describe("memory sync (against the Anthropic API stand-in)", () => {
  test("the first sync downloads every memory under /mnt/memory/<store id> or the mount_path", async () => {
    const a = api.createMemoryStore();
    const b = api.createMemoryStore();
    api.writeMemory(a, "notes.md", "alpha");
    api.writeMemory(a, "/deep/dir/x.txt", "nested");
    api.writeMemory(b, "b.md", "bravo");
    const { sync, report } = await openStores([
      { memory_store_id: a, access: "read_write" },
      { memory_store_id: b, access: "read_only", mount_path: "/data/team" },
    ]);
    expect(report).toMatchObject({ pulled: 3, pushed: 0, failedStores: [] });
    expect(files.paths()).toEqual([`/data/team/b.md`, `/mnt/memory/${a}/deep/dir/x.txt`, `/mnt/memory/${a}/notes.md`]);
    expect(files.text(`/mnt/memory/${a}/deep/dir/x.txt`)).toBe("nested");
    expect(sync.mounts).toEqual([
      { storeId: a, path: `/mnt/memory/${a}`, access: "read_write" },
      { storeId: b, path: "/data/team", access: "read_only" },
    ]);
    // Nothing changed: a second sync moves nothing.
    expect(await sync.sync()).toMatchObject({ pulled: 0, pushed: 0, deleted: 0, conflicts: [] });
  });

  test("a mount_path that is the workdir, above it, or escaping falls back to /mnt/memory/<store id>; overlaps are refused", async () => {
    const ids = [api.createMemoryStore(), api.createMemoryStore(), api.createMemoryStore(), api.createMemoryStore()];
    const { sync } = await openStores([
      { memory_store_id: ids[0] ?? "", access: "read_only", mount_path: "/workspace" },
      { memory_store_id: ids[1] ?? "", access: "read_only", mount_path: "/" },
      { memory_store_id: ids[2] ?? "", access: "read_only", mount_path: "/a/../../etc" },
      { memory_store_id: ids[3] ?? "", access: "read_only", mount_path: `/mnt/memory/${ids[0]}/inner` },
    ]);
    expect(sync.mounts.map((m) => m.path)).toEqual(ids.slice(0, 3).map((id) => `/mnt/memory/${id}`));
    expect(logs.some((line) => line.includes(`memory store ${ids[3]} not mounted`))).toBe(true);
  });

  test("local creates, updates and deletes are pushed; the update carries the last seen hash", async () => {
    const store = api.createMemoryStore();
    const kept = api.writeMemory(store, "kept.md", "v1");
    api.writeMemory(store, "gone.md", "bye");
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/new/idea.md`, "fresh");
    files.writeText(`${mount}/kept.md`, "v2");
    await files.remove(`${mount}/gone.md`);
    expect(await sync.sync()).toMatchObject({ pushed: 2, deleted: 1, pulled: 0, conflicts: [] });
    expect(remoteByPath(store)).toEqual({ "kept.md": "v2", "new/idea.md": "fresh" });
    expect(api.memories(store).find((m) => m.id === kept.id)?.content_sha256).toBe(sha256Hex("v2"));
    expect(await sync.sync()).toMatchObject({ pushed: 0, pulled: 0, deleted: 0 });
  });

  test("remote creates, updates and deletes are pulled", async () => {
    const store = api.createMemoryStore();
    const changed = api.writeMemory(store, "changed.md", "old");
    const removed = api.writeMemory(store, "removed.md", "x");
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    api.updateMemory(store, changed.id, "new");
    api.deleteMemory(store, removed.id);
    api.writeMemory(store, "added.md", "hello");
    expect(await sync.sync()).toMatchObject({ pulled: 2, deleted: 1, pushed: 0 });
    expect(files.paths(mount)).toEqual([`${mount}/added.md`, `${mount}/changed.md`]);
    expect(files.text(`${mount}/changed.md`)).toBe("new");
    expect(memoryWrites()).toEqual([]);
  });

  test("a new instance given the saved baselines resumes the three-way sync: a remote delete is not pushed back", async () => {
    const store = api.createMemoryStore();
    api.writeMemory(store, "keep.md", "kept");
    const doomed = api.writeMemory(store, "gone.md", "x");
    const saved = new Map<string, Map<string, Baseline>>();
    const baseline: BaselineStore = {
      load: (id) => new Map(saved.get(id)),
      set: (id, key, value) => saved.set(id, (saved.get(id) ?? new Map()).set(key, value)),
      delete: (id, key) => void saved.get(id)?.delete(key),
    };
    const session = api.createSession(env.id, { memoryStores: [{ memory_store_id: store, access: "read_write" }] });
    const options = {
      credentials: { baseUrl: api.url, bearer: session.sessionsToken ?? "" },
      stores: [{ type: "memory_store" as const, memory_store_id: store, access: "read_write" }],
      files,
      log,
      retry: NO_RETRY,
    };
    await MemorySync.open({ ...options, baseline });
    expect([...(saved.get(store)?.keys() ?? [])].sort()).toEqual(["gone.md", "keep.md"]);
    api.deleteMemory(store, doomed.id);
    // The first instance is gone (evicted); the next one mounts with what was saved.
    const resumed = MemorySync.mount({ ...options, baseline });
    expect(await resumed.sync()).toMatchObject({ deleted: 1, pushed: 0 });
    expect(files.paths(`/mnt/memory/${store}`)).toEqual([`/mnt/memory/${store}/keep.md`]);
    expect(remoteByPath(store)).toEqual({ "keep.md": "kept" });
    expect([...(saved.get(store)?.keys() ?? [])]).toEqual(["keep.md"]);

    // Without them, the same situation reads as a local creation: the deleted memory comes back.
    api.writeMemory(store, "gone.md", "x");
    await resumed.sync();
    api.deleteMemory(store, api.memories(store).find((m) => m.path === "gone.md")?.id ?? "");
    expect(await MemorySync.mount(options).sync()).toMatchObject({ pushed: 1 });
    expect(Object.keys(remoteByPath(store)).sort()).toEqual(["gone.md", "keep.md"]);
  });

  test("a read_only store is never written remotely but still receives remote changes", async () => {
    const store = api.createMemoryStore();
    const m = api.writeMemory(store, "a.md", "remote");
    const { sync } = await openStores([{ memory_store_id: store, access: "read_only" }]);
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/local-only.md`, "mine");
    files.writeText(`${mount}/a.md`, "edited locally");
    expect(await sync.sync()).toMatchObject({ pushed: 0, deleted: 0, pulled: 0 });
    expect(memoryWrites()).toEqual([]);
    expect(remoteByPath(store)).toEqual({ "a.md": "remote" });
    // A remote change to the edited file wins the path; the local edit stays beside it, locally only.
    api.updateMemory(store, m.id, "remote v2");
    const report = await sync.sync();
    expect(report.conflicts).toEqual([`${mount}/a.md.conflict-1`]);
    expect(files.text(`${mount}/a.md`)).toBe("remote v2");
    expect(files.text(`${mount}/a.md.conflict-1`)).toBe("edited locally");
    expect(files.text(`${mount}/local-only.md`)).toBe("mine");
    expect(memoryWrites()).toEqual([]);
  });

  test("access other than read_write is treated as read_only, with a log line", async () => {
    const store = api.createMemoryStore();
    const { sync } = await openStores([{ memory_store_id: store }]);
    files.writeText(`/mnt/memory/${store}/x.md`, "x");
    await sync.sync();
    expect(memoryWrites()).toEqual([]);
    expect(logs.some((line) => line.includes("treated as read_only"))).toBe(true);
  });

  test("both sides changed: remote wins the path, the local content is kept and pushed as a conflict copy", async () => {
    const store = api.createMemoryStore();
    const m = api.writeMemory(store, "plan.md", "base");
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/plan.md`, "local edit");
    api.updateMemory(store, m.id, "remote edit");
    const report = await sync.sync();
    expect(report.conflicts).toEqual([`${mount}/plan.md.conflict-1`]);
    expect(files.text(`${mount}/plan.md`)).toBe("remote edit");
    expect(files.text(`${mount}/plan.md.conflict-1`)).toBe("local edit");
    expect(remoteByPath(store)).toEqual({ "plan.md": "remote edit", "plan.md.conflict-1": "local edit" });
    expect(logs.some((line) => line.includes("plan.md changed on both sides"))).toBe(true);
    // A second conflict on the same file takes the next free name.
    files.writeText(`${mount}/plan.md`, "local again");
    api.updateMemory(store, m.id, "remote again");
    expect((await sync.sync()).conflicts).toEqual([`${mount}/plan.md.conflict-2`]);
  });

  test("a remote change between the list and the update fails the precondition: nothing is overwritten", async () => {
    const store = api.createMemoryStore();
    const m = api.writeMemory(store, "race.md", "base");
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/race.md`, "local");
    files.beforeGet = (path) => {
      if (path === `${mount}/race.md` && api.memories(store).find((x) => x.id === m.id)?.content === "base") {
        api.updateMemory(store, m.id, "remote won the race");
      }
    };
    const report = await sync.sync();
    expect(api.calls.some((c) => c.method === "POST" && c.path.endsWith(`/memories/${m.id}`) && c.status === 412)).toBe(
      true,
    );
    expect(report.conflicts).toEqual([`${mount}/race.md.conflict-1`]);
    expect(remoteByPath(store)).toEqual({ "race.md": "remote won the race", "race.md.conflict-1": "local" });
    expect(files.text(`${mount}/race.md`)).toBe("remote won the race");
  });

  test("a remote create at the same path between the list and the create (409) becomes a conflict", async () => {
    const store = api.createMemoryStore();
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/both.md`, "local");
    files.beforeGet = (path) => {
      if (path === `${mount}/both.md` && api.memories(store).length === 0) api.writeMemory(store, "both.md", "remote");
    };
    const report = await sync.sync();
    expect(api.calls.some((c) => c.method === "POST" && c.status === 409)).toBe(true);
    expect(report.conflicts).toEqual([`${mount}/both.md.conflict-1`]);
    expect(remoteByPath(store)).toEqual({ "both.md": "remote", "both.md.conflict-1": "local" });
  });

  test("files already in the mount from an earlier work item are pushed, or kept as conflicts", async () => {
    const store = api.createMemoryStore();
    api.writeMemory(store, "shared.md", "remote");
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/shared.md`, "earlier local");
    files.writeText(`${mount}/unsynced.md`, "written before an eviction");
    const { report } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    expect(report.conflicts).toEqual([`${mount}/shared.md.conflict-1`]);
    expect(remoteByPath(store)).toEqual({
      "shared.md": "remote",
      "shared.md.conflict-1": "earlier local",
      "unsynced.md": "written before an eviction",
    });
  });

  test("a memory whose path would leave the mount is skipped; non-UTF-8 files are not pushed", async () => {
    const store = api.createMemoryStore();
    api.writeMemory(store, "../escape.md", "evil");
    api.writeMemory(store, "ok.md", "fine");
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    expect(files.paths()).toEqual([`${mount}/ok.md`]);
    expect(logs.some((line) => line.includes("cannot be a file"))).toBe(true);
    files.writeText(`${mount}/binary.bin`, new Uint8Array([0xff, 0xfe, 0x00, 0x80]));
    await sync.sync();
    await sync.sync();
    expect(Object.keys(remoteByPath(store)).sort()).toEqual(["../escape.md", "ok.md"]);
    expect(logs.filter((line) => line.includes("binary.bin is not UTF-8 text"))).toHaveLength(1);
  });

  test("final() pushes the last changes, then later syncs do nothing", async () => {
    const store = api.createMemoryStore();
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    files.writeText(`/mnt/memory/${store}/last.md`, "last words");
    expect(await sync.final()).toMatchObject({ pushed: 1 });
    files.writeText(`/mnt/memory/${store}/after.md`, "too late");
    expect(await sync.sync()).toMatchObject({ pushed: 0, pulled: 0 });
    expect(remoteByPath(store)).toEqual({ "last.md": "last words" });
    expect(await sync.final()).toBeNull();
  });

  test("final() gives up at its bound when the sandbox hangs, and says so", async () => {
    const store = api.createMemoryStore();
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    files.writeText(`/mnt/memory/${store}/stuck.md`, "x");
    files.hangGets = true;
    expect(await sync.final(50)).toBeNull();
    expect(logs.some((line) => line.includes("final sync did not finish within 50 ms"))).toBe(true);
    // The hung pass holds nothing up: later syncs answer at once, empty.
    expect(await sync.sync()).toEqual({ pushed: 0, pulled: 0, deleted: 0, conflicts: [], failedStores: [] });
  });

  test("syncs never overlap: calls made during a pass share one more pass after it", async () => {
    const store = api.createMemoryStore();
    const { sync } = await openStores([{ memory_store_id: store, access: "read_write" }]);
    const mount = `/mnt/memory/${store}`;
    files.writeText(`${mount}/a.md`, "a");
    const lists = () => api.calls.filter((c) => c.method === "GET" && c.path.endsWith("/memories")).length;
    const listsBefore = lists();
    const first = sync.sync();
    const second = sync.sync();
    const third = sync.sync();
    expect(third).toBe(second);
    expect(await first).toMatchObject({ pushed: 1 });
    expect(await second).toMatchObject({ pushed: 0 });
    expect(lists() - listsBefore).toBe(2);
  });

  test("the sync interval is 15 s by default and never under 5 s", () => {
    expect(memorySyncIntervalMs()).toBe(15_000);
    expect(memorySyncIntervalMs(1000)).toBe(MEMORY_SYNC_MIN_INTERVAL_MS);
    expect(memorySyncIntervalMs(20_000)).toBe(20_000);
  });
});

describe("session resources (against the Anthropic API stand-in)", () => {
  async function sessionOf(sessionId: string): Promise<Session> {
    const { SessionSchema } = await import("../../src/managed-agents/protocol.ts");
    const { call } = await import("../stand-ins/anthropic-api-client.ts");
    const response = await call(api.url, `/v1/sessions/${sessionId}`, { token: env.key });
    return SessionSchema.parse(await response.json());
  }

  test("prepare installs skills and mounts memory; release syncs a last time and removes the skills", async () => {
    const store = api.createMemoryStore();
    api.writeMemory(store, "m.md", "memo");
    api.addSkill("skill_a", "v1", "tools", buildZip([{ name: "SKILL.md", data: "skill" }]));
    const created = api.createSession(env.id, {
      skills: [{ skill_id: "skill_a", version: "latest" }],
      memoryStores: [{ memory_store_id: store, access: "read_write" }],
    });
    const resources = await prepareSessionResources({
      api: { baseUrl: api.url, environmentKey: env.key, sessionsToken: created.sessionsToken, retry: NO_RETRY },
      session: await sessionOf(created.sessionId),
      files,
      log,
    });
    expect(resources.skills.installed.map((s) => s.path)).toEqual(["/workspace/skills/tools"]);
    expect(resources.extraRoots).toEqual([`/mnt/memory/${store}`]);
    expect(resources.memoryReport).toMatchObject({ pulled: 1, failedStores: [] });
    expect(files.text(`/mnt/memory/${store}/m.md`)).toBe("memo");
    files.writeText(`/mnt/memory/${store}/m.md`, "memo v2");
    const released = await releaseSessionResources({ resources, files, log });
    expect(released.memory).toMatchObject({ pushed: 1 });
    expect(remoteByPath(store)).toEqual({ "m.md": "memo v2" });
    expect(files.paths("/workspace")).toEqual([]);
    const secrets = [env.key, created.sessionsToken ?? ""].map((s) => s.slice(0, 16));
    for (const secret of secrets) expect(logs.join("\n")).not.toContain(secret);
  });

  test("without a sessions token memory is skipped with a log line and never called; skills use the environment key", async () => {
    const store = api.createMemoryStore();
    api.writeMemory(store, "m.md", "memo");
    api.addSkill("skill_a", "v1", "tools", buildZip([{ name: "SKILL.md", data: "skill" }]));
    const created = api.createSession(env.id, {
      skills: [{ skill_id: "skill_a", version: "v1" }],
      memoryStores: [{ memory_store_id: store, access: "read_write" }],
      secret: false,
    });
    expect(created.sessionsToken).toBeNull();
    const resources = await prepareSessionResources({
      api: { baseUrl: api.url, environmentKey: env.key, sessionsToken: null, retry: NO_RETRY },
      session: await sessionOf(created.sessionId),
      files,
      log,
    });
    expect(resources.memory).toBeNull();
    expect(resources.memoryReport).toBeNull();
    expect(resources.extraRoots).toEqual([]);
    expect(resources.skills.installed).toHaveLength(1);
    expect(logs.some((line) => /memory store\(s\) skipped: the work carried no sessions token/.test(line))).toBe(true);
    expect(api.calls.filter((c) => c.path.startsWith("/v1/memory_stores/"))).toEqual([]);
    expect(files.paths("/mnt")).toEqual([]);
    expect(await releaseSessionResources({ resources, files, log })).toEqual({ memory: null });
  });
});

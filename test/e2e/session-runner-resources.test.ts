/**
 * A session's skills and memory stores through the real session runner (protocol §6): skills
 * installed under /workspace/skills before the events are followed and removed at the end, hostile
 * archives refused without a byte outside /workspace/skills, memory stores downloaded, pushed and
 * pulled by the alarm's sync and the final sync, read_only never pushed, nothing pushed once the
 * lease is lost, and a runner restarted mid-session resuming the three-way sync from its storage.
 */
import { describe, expect, test } from "vitest";
import { buildTar } from "../stand-ins/tar.ts";
import { buildZip, deflatedZeros } from "../stand-ins/zip.ts";
import { eventually, runnerHarness } from "./session-runner-helpers.ts";

const h = runnerHarness();
const MiB = 1024 * 1024;
/** A sync comes every 15 s (the alarm's): a few of them, with room for a slow machine. */
const SYNC_WAIT_MS = 90_000;

const memoryFiles = (storeId: string) =>
  h
    .standIn()
    .memories(storeId)
    .map((m) => `${m.path}=${m.content}`)
    .sort();

/** What is under /workspace/skills (the directory itself stays, empty, once the skills are removed). */
const installedSkills = async (sandboxId: string) =>
  (await h.sandboxTree(sandboxId)).filter(
    (path) => path.startsWith("/workspace/skills/") && path !== "/workspace/skills/",
  );

describe("skills", () => {
  test("a zip (wrapper dir, executable script) and a tar install under /workspace/skills/<name>; bash runs the script; both are removed at the end", async () => {
    const standIn = h.standIn();
    standIn.addSkill(
      "skill_zip",
      "v1",
      "alpha",
      buildZip([
        { name: "alpha-1.0/", data: "", mode: 0o040755 },
        { name: "alpha-1.0/SKILL.md", data: "# Alpha\n", compress: true },
        { name: "alpha-1.0/run.sh", data: "#!/bin/bash\necho alpha-ran $1\n", mode: 0o100755 },
        { name: "alpha-1.0/link", data: "/etc/passwd", mode: 0o120777 },
      ]),
    );
    standIn.addSkill(
      "skill_tar",
      "v3",
      "tools/beta",
      buildTar([
        { name: "SKILL.md", data: "# Beta\n" },
        { name: "bin/tool", data: "#!/bin/bash\necho beta-tool\n", mode: 0o755 },
      ]),
    );
    const r = await h.claim({
      skills: [
        { skill_id: "skill_zip", version: "latest" },
        { skill_id: "skill_tar", version: "v3" },
      ],
    });
    const resources = (await r.details()).resources;
    expect(resources?.skills).toEqual([
      { skillId: "skill_zip", version: "v1", ok: true, path: "/workspace/skills/alpha" },
      { skillId: "skill_tar", version: "v3", ok: true, path: "/workspace/skills/beta" },
    ]);
    const skillFiles = (await h.sandboxEntries(r.sandboxId)).filter(
      (entry) => entry.path.startsWith("/workspace/skills/") && !entry.path.endsWith("/"),
    );
    expect(skillFiles.map((entry) => `${entry.path} ${entry.mode.toString(8)}`).sort()).toEqual([
      "/workspace/skills/alpha/SKILL.md 644",
      "/workspace/skills/alpha/run.sh 755",
      "/workspace/skills/beta/SKILL.md 644",
      "/workspace/skills/beta/bin/tool 755",
    ]);

    const [run, tool, read] = r.standIn.pushToolUses(r.sessionId, [
      { name: "bash", input: { command: "./skills/alpha/run.sh now" } },
      { name: "bash", input: { command: "skills/beta/bin/tool" } },
      { name: "read", input: { file_path: "skills/beta/SKILL.md" } },
    ]);
    expect(await r.textOf(run!)).toEqual({ text: "alpha-ran now", isError: false });
    expect(await r.textOf(tool!)).toEqual({ text: "beta-tool", isError: false });
    expect((await r.textOf(read!)).text).toContain("# Beta");

    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    expect((await r.details()).resources?.released).toBe(true);
    expect(await installedSkills(r.sandboxId)).toEqual([]);
    expect(r.standIn.work(r.workId).state).toBe("stopped");
  });

  test("`../` members, an absolute path, an escaping symlink and a zip bomb are refused; the good skill installs; nothing lands outside /workspace/skills; tool calls are answered", async () => {
    const standIn = h.standIn();
    standIn.addSkill("skill_good", "v1", "good", buildZip([{ name: "SKILL.md", data: "good" }]));
    standIn.addSkill(
      "skill_dotdot",
      "v1",
      "dotdot",
      buildZip([
        { name: "s/ok.md", data: "fine" },
        { name: "s/../../escaped-dotdot.txt", data: "evil" },
      ]),
    );
    standIn.addSkill(
      "skill_absolute",
      "v1",
      "absolute",
      buildTar([
        { name: "ok.md", data: "fine" },
        { name: "/etc/escaped-absolute", data: "evil" },
      ]),
    );
    standIn.addSkill(
      "skill_symlink",
      "v1",
      "symlink",
      buildZip([
        { name: "ok.md", data: "fine" },
        { name: "../escaped-link", data: "/etc/passwd", mode: 0o120777 },
      ]),
    );
    const zeros = await deflatedZeros(200 * MiB);
    standIn.addSkill("skill_bomb", "v1", "bomb", buildZip([{ name: "bomb/SKILL.md", data: "", deflated: zeros }]));
    const r = await h.claim({
      skills: ["skill_dotdot", "skill_absolute", "skill_good", "skill_symlink", "skill_bomb"].map((id) => ({
        skill_id: id,
        version: "v1",
      })),
    });
    const skills = (await r.details()).resources?.skills ?? [];
    // Installed first, then the refused ones in the session's order.
    expect(skills.map((s) => [s.skillId, s.ok])).toEqual([
      ["skill_good", true],
      ["skill_dotdot", false],
      ["skill_absolute", false],
      ["skill_symlink", false],
      ["skill_bomb", false],
    ]);
    expect(skills.map((s) => s.error ?? "").join("\n")).toMatch(
      /leaves the skill directory[\s\S]*absolute path[\s\S]*leaves the skill directory[\s\S]*inflates past/,
    );

    const tree = await h.sandboxTree(r.sandboxId);
    expect(await installedSkills(r.sandboxId)).toEqual(["/workspace/skills/good/", "/workspace/skills/good/SKILL.md"]);
    expect(tree.filter((path) => /escaped|bomb|dotdot|absolute|symlink/.test(path))).toEqual([]);

    const [ls] = r.standIn.pushToolUses(r.sessionId, [
      { name: "bash", input: { command: "ls skills; cat skills/good/SKILL.md" } },
    ]);
    expect(await r.textOf(ls!)).toEqual({ text: "good\ngood", isError: false });
    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    expect(await installedSkills(r.sandboxId)).toEqual([]);
  });
});

describe("memory stores", () => {
  test("downloaded into /mnt/memory/<id>; a write there is pushed, a remote change pulled; a read_only store is never pushed", async () => {
    const standIn = h.standIn();
    const shared = standIn.createMemoryStore();
    const readOnly = standIn.createMemoryStore();
    standIn.writeMemory(shared, "notes/a.md", "remote a");
    standIn.writeMemory(readOnly, "/ro.md", "read only");
    const r = await h.claim({
      memoryStores: [
        { memory_store_id: shared, access: "read_write" },
        { memory_store_id: readOnly, access: "read_only" },
      ],
    });
    const mount = `/mnt/memory/${shared}`;
    const roMount = `/mnt/memory/${readOnly}`;
    const resources = (await r.details()).resources;
    expect(resources?.memoryStores.map((s) => [s.storeId, s.path, s.access, s.error])).toEqual([
      [shared, mount, "read_write", null],
      [readOnly, roMount, "read_only", null],
    ]);
    expect(await h.sandboxFile(r.sandboxId, `${mount}/notes/a.md`)).toBe("remote a");
    expect(await h.sandboxFile(r.sandboxId, `${roMount}/ro.md`)).toBe("read only");

    const [write, writeRo, read] = r.standIn.pushToolUses(r.sessionId, [
      { name: "write", input: { file_path: `${mount}/learned.md`, content: "from the agent" } },
      { name: "write", input: { file_path: `${roMount}/local.md`, content: "stays here" } },
      { name: "read", input: { file_path: `${mount}/notes/a.md` } },
    ]);
    expect((await r.textOf(write!)).isError).toBe(false);
    expect((await r.textOf(writeRo!)).isError).toBe(false);
    expect((await r.textOf(read!)).text).toContain("remote a");
    standIn.writeMemory(shared, "pulled.md", "from elsewhere");

    await eventually(async () => memoryFiles(shared).includes("learned.md=from the agent"), SYNC_WAIT_MS, 500);
    await eventually(
      async () => (await h.sandboxFile(r.sandboxId, `${mount}/pulled.md`)) === "from elsewhere",
      SYNC_WAIT_MS,
      500,
    );
    expect(memoryFiles(shared)).toEqual([
      "learned.md=from the agent",
      "notes/a.md=remote a",
      "pulled.md=from elsewhere",
    ]);

    // The final sync takes what changed since the last one.
    await h.putFile(r.sandboxId, `/mnt/memory/${shared}/at-the-end.md`, "last words");
    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    expect(memoryFiles(shared)).toContain("at-the-end.md=last words");
    expect(memoryFiles(readOnly)).toEqual(["/ro.md=read only"]);
    expect((await r.details()).resources?.released).toBe(true);
  });

  test("without a sessions token the stores are skipped (shown in the details, never called); the session runs", async () => {
    const standIn = h.standIn();
    const store = standIn.createMemoryStore();
    standIn.writeMemory(store, "a.md", "remote");
    const r = await h.claim({ secret: false, memoryStores: [{ memory_store_id: store, access: "read_write" }] });
    const resources = (await r.details()).resources;
    expect(resources?.memoryStores).toEqual([]);
    expect(resources?.memorySkipped).toMatch(/no sessions token/);
    const [ls] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: "ls /mnt/memory | wc -l" } }]);
    expect((await r.textOf(ls!)).isError).toBe(false);
    expect(await h.sandboxFile(r.sandboxId, `/mnt/memory/${store}/a.md`)).toBeNull();
    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    expect(standIn.calls.filter((c) => c.path.includes(`/memory_stores/${store}`))).toEqual([]);
  });

  test("a runner restarted mid-session does not bring back a memory deleted remotely meanwhile", async () => {
    const standIn = h.standIn();
    const store = standIn.createMemoryStore();
    standIn.writeMemory(store, "keep.md", "kept");
    const doomed = standIn.writeMemory(store, "gone.md", "deleted remotely");
    const r = await h.claim({ memoryStores: [{ memory_store_id: store, access: "read_write" }] });
    const mount = `/mnt/memory/${store}`;
    expect(await h.sandboxFile(r.sandboxId, `${mount}/gone.md`)).toBe("deleted remotely");

    await r.reset();
    standIn.deleteMemory(store, doomed.id);
    standIn.writeMemory(store, "after.md", "written after the restart");
    // The restarted runner syncs: the remote delete comes down, the new memory too.
    await eventually(
      async () => (await h.sandboxFile(r.sandboxId, `${mount}/after.md`)) === "written after the restart",
      SYNC_WAIT_MS,
      500,
    );
    expect(await h.sandboxFile(r.sandboxId, `${mount}/gone.md`)).toBeNull();
    expect(memoryFiles(store)).toEqual(["after.md=written after the restart", "keep.md=kept"]);

    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    expect(memoryFiles(store)).toEqual(["after.md=written after the restart", "keep.md=kept"]);
  });

  test("a memory sync held up by the API never holds a heartbeat back, and no second sync overlaps it", async () => {
    const standIn = h.standIn();
    const store = standIn.createMemoryStore();
    const r = await h.claim({ memoryStores: [{ memory_store_id: store, access: "read_write" }] });
    const delaysBefore = standIn.faults.applied.delays;
    // The next list of the store (the alarm's next sync) is answered only when its caller gives up.
    standIn.faults.slowNext(1, 600_000, /^GET .*\/memory_stores\//);
    await eventually(async () => standIn.faults.applied.delays > delaysBefore, SYNC_WAIT_MS, 200);
    const mark = standIn.calls.length;
    const since = () => standIn.calls.slice(mark);
    // Four beats (one every 5 s) span a whole sync interval: the alarm came while the sync hung.
    await eventually(async () => since().filter((c) => c.path.includes("/heartbeat")).length >= 4, 60_000, 200);
    expect((await r.details()).state).toBe("running");
    expect(since().filter((c) => c.path.includes("/memory_stores/"))).toEqual([]);
    expect(standIn.faults.applied.delays).toBe(delaysBefore + 1);

    await h.putFile(r.sandboxId, `/mnt/memory/${store}/late.md`, "saved by the final sync");
    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    expect(memoryFiles(store)).toEqual(["late.md=saved by the final sync"]);
  });

  test("once the lease is lost nothing more is pushed (no final sync); the skills are still removed", async () => {
    const standIn = h.standIn();
    standIn.addSkill("skill_x", "v1", "x", buildZip([{ name: "SKILL.md", data: "x" }]));
    const store = standIn.createMemoryStore();
    const r = await h.claim({
      skills: [{ skill_id: "skill_x", version: "v1" }],
      memoryStores: [{ memory_store_id: store, access: "read_write" }],
    });
    // No sync before the lease is lost can push it either (the final sync is what is looked at).
    standIn.faults.failNext(10_000, 503, { match: /^POST .*\/memory_stores\// });
    await h.putFile(r.sandboxId, `/mnt/memory/${store}/unsaved.md`, "never pushed");
    const mark = standIn.calls.length;
    r.standIn.refuseLeaseExtension(r.workId);
    await r.untilEnded();
    const ended = await r.details();
    expect(ended.endReason).toBe("lease not extended");
    expect(ended.resources?.released).toBe(true);
    expect(memoryFiles(store)).toEqual([]);
    // After the beat that lost the lease, not one memory call (a final sync lists the store first).
    const after = standIn.calls.slice(mark);
    const losing = after.findIndex((c) => c.path.includes("/heartbeat"));
    expect(losing).toBeGreaterThanOrEqual(0);
    expect(after.slice(losing + 1).filter((c) => c.path.includes("/memory_stores/"))).toEqual([]);
    expect(await installedSkills(r.sandboxId)).toEqual([]);
  });
});

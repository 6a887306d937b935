/**
 * Skills of a Managed Agents session, installed into a sandbox (an in-memory SandboxFiles double)
 * from the local stand-in for Anthropic's API over HTTP: `latest` resolution, zip and tar (plain and
 * gzip) extraction with wrapper stripping and exec bits, and every hostile archive refused whole
 * with nothing written: escaping paths, links, bombs, sizes that lie.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { ApiCredentials } from "../../src/managed-agents/api-client.ts";
import { DEFAULT_ARCHIVE_LIMITS } from "../../src/managed-agents/skills/archive-members.ts";
import { installSkills, removeSkills, type SkillsReport } from "../../src/managed-agents/skills/install-skills.ts";
import { InMemorySandboxFilesDouble } from "../helpers/in-memory-sandbox-files.ts";
import {
  type AnthropicApiStandIn,
  type StandInEnvironment,
  startAnthropicApiStandIn,
} from "../stand-ins/anthropic-api-stand-in.ts";
import { buildTar, gzip, gzippedZeroTar } from "../stand-ins/tar.ts";
import { buildZip, deflatedZeros } from "../stand-ins/zip.ts";

const MiB = 1024 * 1024;
let api: AnthropicApiStandIn;
let env: StandInEnvironment;
let files: InMemorySandboxFilesDouble;
let logs: string[];

beforeEach(async () => {
  api = await startAnthropicApiStandIn({ pingIntervalMs: 0 });
  env = api.createEnvironment();
  files = new InMemorySandboxFilesDouble();
  logs = [];
});
afterEach(() => api.close());

/** Installs the given skills of a new session with its sessions token. */
async function install(
  skills: { skill_id: string; version: string }[],
  limits = DEFAULT_ARCHIVE_LIMITS,
): Promise<SkillsReport> {
  const session = api.createSession(env.id, { skills });
  const credentials: ApiCredentials = { baseUrl: api.url, bearer: session.sessionsToken ?? "" };
  return installSkills({ credentials, skills, files, log: (line) => logs.push(line), limits });
}

/** One skill with this archive; answers the report. */
async function installArchive(archive: Uint8Array, name = "my-skill"): Promise<SkillsReport> {
  api.addSkill("skill_a", "v1", name, archive);
  return install([{ skill_id: "skill_a", version: "v1" }]);
}

/**
 * Counts the bytes every DecompressionStream hands on, so a test can show that inflation stopped
 * near the limit instead of running to the bomb's full size.
 */
function countInflatedBytes(): { readonly bytes: number } {
  const Real = globalThis.DecompressionStream;
  const counter = { bytes: 0 };
  class Counting {
    readonly writable: WritableStream<BufferSource>;
    readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
    constructor(format: CompressionFormat) {
      const inner = new Real(format);
      this.writable = inner.writable;
      this.readable = inner.readable.pipeThrough(
        new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
          transform(chunk, out) {
            counter.bytes += chunk.byteLength;
            out.enqueue(chunk);
          },
        }),
      );
    }
  }
  vi.stubGlobal("DecompressionStream", Counting);
  return counter;
}
afterEach(() => {
  vi.unstubAllGlobals();
});

function expectRefused(report: SkillsReport, reason: RegExp): void {
  expect(report.installed).toEqual([]);
  expect(report.failed).toHaveLength(1);
  expect(report.failed[0]?.error).toMatch(reason);
  expect(files.writes).toEqual([]);
  expect(files.paths()).toEqual([]);
  expect(logs.join("\n")).toMatch(reason);
}

describe("good archives (against the Anthropic API stand-in)", () => {
  test("a zip installs under /workspace/skills/<name> with its wrapper stripped and exec bits kept", async () => {
    const report = await installArchive(
      buildZip([
        { name: "my-skill/", data: "", mode: 0o040755 },
        { name: "my-skill/SKILL.md", data: "# My skill\n", compress: true },
        { name: "my-skill/scripts/run.sh", data: "#!/bin/sh\necho hi\n", mode: 0o100755 },
      ]),
    );
    expect(report.failed).toEqual([]);
    expect(report.installed).toEqual([
      { skillId: "skill_a", version: "v1", name: "my-skill", path: "/workspace/skills/my-skill", files: 2, bytes: 29 },
    ]);
    expect(files.paths()).toEqual(["/workspace/skills/my-skill/SKILL.md", "/workspace/skills/my-skill/scripts/run.sh"]);
    expect(files.text("/workspace/skills/my-skill/SKILL.md")).toBe("# My skill\n");
    expect(files.files.get("/workspace/skills/my-skill/scripts/run.sh")?.executable).toBe(true);
    expect(files.files.get("/workspace/skills/my-skill/SKILL.md")?.executable).toBe(false);
  });

  test("no wrapper is stripped when members do not all share one directory", async () => {
    await installArchive(
      buildZip([
        { name: "SKILL.md", data: "top" },
        { name: "lib/x.py", data: "x" },
      ]),
    );
    expect(files.paths()).toEqual(["/workspace/skills/my-skill/SKILL.md", "/workspace/skills/my-skill/lib/x.py"]);
  });

  test.each([
    ["a plain tar", (tar: Uint8Array) => tar],
    ["a gzip-compressed tar", gzip],
  ])("%s installs with its wrapper stripped and exec bits kept", async (_, wrap) => {
    const report = await installArchive(
      wrap(
        buildTar([
          { name: "pkg/", type: "5", mode: 0o755 },
          { name: "pkg/SKILL.md", data: "tar skill" },
          { name: "pkg/bin/tool", data: "#!/bin/sh\n", mode: 0o755 },
        ]),
      ),
    );
    expect(report.failed).toEqual([]);
    expect(files.paths()).toEqual(["/workspace/skills/my-skill/SKILL.md", "/workspace/skills/my-skill/bin/tool"]);
    expect(files.text("/workspace/skills/my-skill/SKILL.md")).toBe("tar skill");
    expect(files.files.get("/workspace/skills/my-skill/bin/tool")?.executable).toBe(true);
    expect(files.files.get("/workspace/skills/my-skill/SKILL.md")?.executable).toBe(false);
  });

  test("`latest` resolves to the newest version and installs its content", async () => {
    api.addSkill("skill_a", "v1", "my-skill", buildZip([{ name: "SKILL.md", data: "old" }]));
    api.addSkill("skill_a", "v2", "my-skill", buildZip([{ name: "SKILL.md", data: "new" }]));
    const report = await install([{ skill_id: "skill_a", version: "latest" }]);
    expect(report.installed.map((s) => s.version)).toEqual(["v2"]);
    expect(files.text("/workspace/skills/my-skill/SKILL.md")).toBe("new");
  });

  test("the directory is the basename of the name; a name with no usable basename is refused", async () => {
    api.addSkill("skill_a", "v1", "../../etc\\tools", buildZip([{ name: "SKILL.md", data: "a" }]));
    api.addSkill("skill_b", "v1", "..", buildZip([{ name: "SKILL.md", data: "b" }]));
    const report = await install([
      { skill_id: "skill_a", version: "v1" },
      { skill_id: "skill_b", version: "v1" },
    ]);
    expect(report.installed.map((s) => s.path)).toEqual(["/workspace/skills/tools"]);
    expect(report.failed).toEqual([
      { skillId: "skill_b", version: "v1", error: expect.stringMatching(/no usable directory name/) },
    ]);
    expect(files.paths()).toEqual(["/workspace/skills/tools/SKILL.md"]);
  });

  test("a missing skill is reported and the others still install; removeSkills takes away what was installed", async () => {
    api.addSkill("skill_a", "v1", "alpha", buildZip([{ name: "SKILL.md", data: "a" }]));
    files.writeText("/workspace/keep.txt", "mine");
    const report = await install([
      { skill_id: "skill_missing", version: "latest" },
      { skill_id: "skill_a", version: "v1" },
      { skill_id: "skill_a", version: "v9" },
    ]);
    expect(report.installed.map((s) => s.name)).toEqual(["alpha"]);
    expect(report.failed.map((f) => [f.skillId, f.version])).toEqual([
      ["skill_missing", "latest"],
      ["skill_a", "v9"],
    ]);
    for (const failure of report.failed) expect(failure.error).toMatch(/^404 not_found_error/);
    expect(logs.some((line) => line.includes("skill skill_missing@latest not installed: 404"))).toBe(true);
    await removeSkills(files, report, (line) => logs.push(line));
    expect(files.paths()).toEqual(["/workspace/keep.txt"]);
  });

  test("no log line or report carries the sessions token", async () => {
    const session = api.createSession(env.id);
    const token = session.sessionsToken ?? "";
    const report = await installSkills({
      credentials: { baseUrl: api.url, bearer: token },
      skills: [{ skill_id: "skill_none", version: "v1" }],
      files,
      log: (line) => logs.push(line),
    });
    expect(report.failed).toHaveLength(1);
    expect(JSON.stringify(report) + logs.join("\n")).not.toContain(token.slice(0, 12));
  });
});

describe("hostile archives are refused whole, nothing written", () => {
  const escaping = ["../x", "/etc/x", "a/../../x", "..\\x", "\\etc\\x", "a\\..\\..\\x", "C:\\x", "skill/./../../x"];

  test.each(escaping)("zip member %j", async (name) => {
    const report = await installArchive(
      buildZip([
        { name: "skill/ok.md", data: "fine" },
        { name, data: "evil" },
      ]),
    );
    expectRefused(report, /absolute path|leaves the skill directory/);
  });

  test.each(escaping)("tar member %j", async (name) => {
    const report = await installArchive(
      buildTar([
        { name: "skill/ok.md", data: "fine" },
        { name, data: "evil" },
      ]),
    );
    expectRefused(report, /absolute path|leaves the skill directory/);
  });

  test("a symlink is refused when its name escapes, even though links are never written", async () => {
    const report = await installArchive(buildZip([{ name: "../link", data: "/etc/passwd", mode: 0o120777 }]));
    expectRefused(report, /leaves the skill directory/);
  });

  test("a zip bomb (200 MiB of zeros in a small archive) stops at the per-file limit", async () => {
    const zeros = await deflatedZeros(200 * MiB);
    const archive = buildZip([{ name: "bomb/SKILL.md", data: "", deflated: zeros }]);
    expect(archive.byteLength).toBeLessThan(MiB);
    const inflated = countInflatedBytes();
    const report = await installArchive(archive);
    expectRefused(report, new RegExp(`inflates past ${DEFAULT_ARCHIVE_LIMITS.maxFileBytes} bytes`));
    expect(inflated.bytes).toBeGreaterThan(DEFAULT_ARCHIVE_LIMITS.maxFileBytes);
    expect(inflated.bytes).toBeLessThan(DEFAULT_ARCHIVE_LIMITS.maxFileBytes + 4 * MiB);
  });

  test("members under the per-file limit that add up past the total limit are refused", async () => {
    const zeros = await deflatedZeros(12 * MiB);
    const archive = buildZip([0, 1, 2].map((n) => ({ name: `s/part${n}`, data: "", deflated: zeros })));
    const report = await installArchive(archive);
    expectRefused(report, new RegExp(`inflates past ${DEFAULT_ARCHIVE_LIMITS.maxTotalBytes} bytes in total`));
  });

  test("a gzip-compressed tar bomb stops at the per-file limit", async () => {
    const archive = await gzippedZeroTar("bomb/data.bin", 200 * MiB);
    expect(archive.byteLength).toBeLessThan(MiB);
    const inflated = countInflatedBytes();
    const report = await installArchive(archive);
    expectRefused(report, /inflates past/);
    expect(inflated.bytes).toBeLessThan(DEFAULT_ARCHIVE_LIMITS.maxFileBytes + 4 * MiB);
  });

  test("a zip member declaring fewer bytes than it inflates to is cut at its declared size", async () => {
    const report = await installArchive(
      buildZip([{ name: "s/liar", data: "x".repeat(100_000), compress: true, declaredSize: 10 }]),
    );
    expectRefused(report, /inflates past its declared size/);
  });

  test("a zip member declaring more bytes than it holds is refused", async () => {
    const report = await installArchive(
      buildZip([{ name: "s/liar", data: "short", compress: true, declaredSize: 50 * MiB }]),
    );
    expectRefused(report, /shorter than it declares/);
  });

  test("a tar member whose header size runs past the end of the archive is refused", async () => {
    const tar = buildTar([
      { name: "s/ok", data: "fine" },
      { name: "s/liar", data: "short", declaredSize: 4 * MiB },
    ]);
    const report = await installArchive(tar.subarray(0, tar.byteLength - 1024));
    expectRefused(report, /tar archive is corrupt/);
  });

  test("a member that is both a file and a directory is refused", async () => {
    const report = await installArchive(
      buildZip([
        { name: "s/a", data: "file" },
        { name: "s/a/b", data: "under it" },
      ]),
    );
    expectRefused(report, /both a file and a directory/);
  });

  test("a member that appears twice is refused", async () => {
    const report = await installArchive(
      buildTar([
        { name: "s/a", data: "one" },
        { name: "s/./a", data: "two" },
      ]),
    );
    expectRefused(report, /appears twice/);
  });

  test("more members than allowed are refused before any is read", async () => {
    const members = Array.from({ length: 11 }, (_, n) => ({ name: `s/f${n}`, data: "x" }));
    api.addSkill("skill_a", "v1", "many", buildZip(members));
    const report = await install([{ skill_id: "skill_a", version: "v1" }], {
      ...DEFAULT_ARCHIVE_LIMITS,
      maxMembers: 10,
    });
    expectRefused(report, /more than 10 members/);
  });

  test("a download past the archive limit is refused", async () => {
    api.addSkill("skill_a", "v1", "big", buildZip([{ name: "s/f", data: "y".repeat(4096) }]));
    const report = await install([{ skill_id: "skill_a", version: "v1" }], {
      ...DEFAULT_ARCHIVE_LIMITS,
      maxArchiveBytes: 1024,
    });
    expectRefused(report, /larger than 1024 bytes/);
  });

  test("content that is neither zip nor tar is refused", async () => {
    expectRefused(await installArchive(new TextEncoder().encode("not an archive")), /neither a zip nor a tar/);
  });

  test("a corrupted zip member fails its CRC check", async () => {
    const archive = buildZip([{ name: "s/a", data: "hello world" }]);
    archive[30 + "s/a".length] = "j".charCodeAt(0);
    expectRefused(await installArchive(archive), /CRC-32/);
  });
});

describe("links and devices are dropped, never written", () => {
  test("zip symlinks", async () => {
    const report = await installArchive(
      buildZip([
        { name: "s/SKILL.md", data: "ok" },
        { name: "s/passwd", data: "/etc/passwd", mode: 0o120777 },
        { name: "s/fifo", data: "", mode: 0o010644 },
      ]),
    );
    expect(report.failed).toEqual([]);
    expect(files.writes).toEqual(["/workspace/skills/my-skill/SKILL.md"]);
  });

  test("tar symlinks, hard links and devices", async () => {
    const report = await installArchive(
      buildTar([
        { name: "s/SKILL.md", data: "ok" },
        { name: "s/sym", type: "2", linkname: "/etc/passwd" },
        { name: "s/hard", type: "1", linkname: "s/SKILL.md" },
        { name: "s/tty", type: "3" },
      ]),
    );
    expect(report.failed).toEqual([]);
    expect(files.writes).toEqual(["/workspace/skills/my-skill/SKILL.md"]);
  });
});

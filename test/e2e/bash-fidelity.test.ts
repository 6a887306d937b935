import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Bash, type IFileSystem, InMemoryFs } from "just-bash";
import { afterAll, describe, expect, test } from "vitest";
import { BashSession } from "../../src/sandbox/bash/bash-session.ts";
import { MemoryShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { CORPUS, type CorpusCase, HELD_OUT, KNOWN_DIFFERENCES, SEED_FILES } from "../fixtures/bash-corpus.ts";
import { nodeSqlStorage } from "../fixtures/node-sql-storage.ts";

// The sandbox's bash (BashSession over just-bash) against GNU bash on this machine, command by
// command, each in a fresh directory with the same files. The directory has the same absolute path
// on both sides, so commands that print paths compare too. The sandbox side runs twice: over
// just-bash's in-memory filesystem and over SqliteFs (on Node's SQLite), the one sandboxes use.
// Plain just-bash (no session layer, none of its GNU-fidelity commands) runs too, for the record.

interface Outcome {
  stdout: string;
  exitCode: number;
}

interface Row {
  name: string;
  real: Outcome;
  memory: Outcome;
  sqlite: Outcome;
  plain: Outcome;
}

const rows: Row[] = [];

function seedRealDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "tether-fidelity-")));
  for (const [path, content] of Object.entries(SEED_FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function runReal(command: string, dir: string): Outcome {
  const result = spawnSync("/bin/bash", ["-c", command], {
    cwd: dir,
    env: { LC_ALL: "C", PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { stdout: result.stdout, exitCode: result.status ?? -1 };
}

async function seed(fs: IFileSystem, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(SEED_FILES)) {
    await fs.mkdir(dirname(join(dir, path)), { recursive: true });
    await fs.writeFile(join(dir, path), content);
  }
}

async function runPlain(command: string, dir: string): Promise<Outcome> {
  const fs = new InMemoryFs();
  await seed(fs, dir);
  const result = await new Bash({ fs, cwd: dir, env: { HOME: dir, LC_ALL: "C" } }).exec(command);
  return { stdout: result.stdout, exitCode: result.exitCode };
}

async function runSandbox(command: string, dir: string, fs: IFileSystem): Promise<Outcome> {
  await seed(fs, dir);
  const session = new BashSession(fs, new MemoryShellStateStore(), { cwd: dir, env: { HOME: dir, LC_ALL: "C" } });
  const result = await session.run({ command, timeout_ms: 10_000 });
  return { stdout: result.stdout, exitCode: result.exitCode };
}

const same = (a: Outcome, b: Outcome) => a.stdout === b.stdout && a.exitCode === b.exitCode;

function show(outcome: Outcome): string {
  return `${JSON.stringify(outcome.stdout.length > 160 ? `${outcome.stdout.slice(0, 160)}…` : outcome.stdout)} (exit ${outcome.exitCode})`;
}

async function compare(item: CorpusCase): Promise<Row> {
  const dir = seedRealDir();
  try {
    const real = runReal(item.command, dir);
    const memory = await runSandbox(item.command, dir, new InMemoryFs());
    const plain = await runPlain(item.command, dir);
    const storage = nodeSqlStorage();
    try {
      const sqlite = await runSandbox(item.command, dir, new SqliteFs(storage));
      return { name: item.name, real, memory, sqlite, plain };
    } finally {
      storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("bash fidelity against GNU bash", () => {
  const all = [...CORPUS, ...HELD_OUT];

  test("the corpus is large and its names unique", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(100);
    expect(HELD_OUT.length).toBeGreaterThanOrEqual(50);
    expect(new Set(all.map((item) => item.name)).size).toBe(all.length);
    for (const name of Object.keys(KNOWN_DIFFERENCES)) expect(all.map((item) => item.name)).toContain(name);
  });

  for (const item of all) {
    test(item.name, async () => {
      const row = await compare(item);
      rows.push(row);
      const known = KNOWN_DIFFERENCES[item.name];
      // The filesystem under the shell must not change what a command prints.
      expect(show(row.sqlite), "SqliteFs and just-bash's in-memory filesystem disagree").toBe(show(row.memory));
      if (known) {
        expect(same(row.real, row.memory), `matches GNU bash now: take "${item.name}" off KNOWN_DIFFERENCES`).toBe(
          false,
        );
      } else {
        expect(show(row.memory), `differs from GNU bash for: ${item.command}`).toBe(show(row.real));
      }
    });
  }

  afterAll(() => {
    const matching = rows.filter((row) => same(row.real, row.memory)).length;
    const plainMatching = rows.filter((row) => same(row.real, row.plain)).length;
    const lines = rows.map((row) => {
      const mark = same(row.real, row.memory) ? "match" : KNOWN_DIFFERENCES[row.name] ? "known" : "DIFF ";
      return `${mark}  ${row.name}${mark === "match" ? "" : `\n         bash: ${show(row.real)}\n      sandbox: ${show(row.memory)}`}`;
    });
    const rate = rows.length === 0 ? 0 : (100 * matching) / rows.length;
    const heldOut = new Set(HELD_OUT.map((item) => item.name));
    const heldRows = rows.filter((row) => heldOut.has(row.name));
    const heldMatching = heldRows.filter((row) => same(row.real, row.memory)).length;
    const heldRate = heldRows.length === 0 ? 0 : (100 * heldMatching) / heldRows.length;
    console.log(
      `${lines.join("\n")}\nbash fidelity: ${matching}/${rows.length} commands match GNU bash (${rate.toFixed(1)}%), ` +
        `${Object.keys(KNOWN_DIFFERENCES).length} known differences; plain just-bash: ${plainMatching}/${rows.length}\n` +
        `held-out set (not tuned against): ${heldMatching}/${heldRows.length} match (${heldRate.toFixed(1)}%)`,
    );
  });
});

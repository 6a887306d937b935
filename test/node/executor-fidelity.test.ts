import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { openShell } from "../../src/gateway/executor/process/shell-session.ts";
import { CORPUS, type CorpusCase, HELD_OUT, SEED_FILES } from "../fixtures/bash-corpus.ts";
import { executorDir } from "../helpers/executor-processes.ts";

// The executor's shell (a persistent real bash driven through ShellSession) against a plain
// `bash -c` per command, over the edge's fidelity corpus: each command alone, in a fresh
// workspace holding the same files at the same path, with the same environment. Being the same
// bash, every command must match, except those that show the shell is a persistent session:

/** Commands whose output differs because the executor's shell is a session, each with the reason. */
const SESSION_DIFFERENCES: Record<string, string> = {
  "trap EXIT": "an EXIT trap fires when the session's shell exits, not after each command",
  "trap EXIT sees status": "an EXIT trap fires when the session's shell exits, not after each command",
  "held trap with error": "an EXIT trap fires when the session's shell exits, not after each command",
};

const executor = executorDir({ env: [] });
const ENV = { LC_ALL: "C", PATH: "/usr/local/bin:/usr/bin:/bin" };

afterAll(() => executor.remove());

interface Outcome {
  stdout: string;
  exitCode: number;
}

function seed(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(SEED_FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function runReal(command: string, dir: string): Outcome {
  const result = spawnSync("/bin/bash", ["-c", command], {
    cwd: dir,
    env: { ...ENV, HOME: dir },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { stdout: result.stdout, exitCode: result.status ?? -1 };
}

async function runSession(command: string, dir: string): Promise<Outcome> {
  const shell = openShell({ workspace: dir, config: executor.config, sandboxEnv: ENV });
  try {
    const result = await shell.run({ command, timeout_ms: 10_000 });
    return { stdout: result.stdout, exitCode: result.exitCode };
  } finally {
    await shell.close();
  }
}

const show = (outcome: Outcome) => `${JSON.stringify(outcome.stdout)} (exit ${outcome.exitCode})`;

async function compare(item: CorpusCase): Promise<{ real: Outcome; session: Outcome }> {
  const dir = join(executor.dir, "case");
  seed(dir);
  const real = runReal(item.command, dir);
  seed(dir);
  const session = await runSession(item.command, dir);
  return { real, session };
}

describe("executor shell fidelity against bash -c", () => {
  const all = [...CORPUS, ...HELD_OUT];
  let matching = 0;

  test("every listed difference names a corpus command", () => {
    for (const name of Object.keys(SESSION_DIFFERENCES)) expect(all.map((item) => item.name)).toContain(name);
  });

  for (const item of all) {
    test(item.name, async () => {
      const { real, session } = await compare(item);
      const same = show(real) === show(session);
      if (same) matching++;
      if (SESSION_DIFFERENCES[item.name]) {
        expect(same, `matches bash -c now: take "${item.name}" off SESSION_DIFFERENCES`).toBe(false);
      } else {
        expect(show(session), `differs from bash -c for: ${item.command}`).toBe(show(real));
      }
    });
  }

  afterAll(() => {
    console.log(`executor shell fidelity: ${matching}/${all.length} commands match bash -c`);
  });
});

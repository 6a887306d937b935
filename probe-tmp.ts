import { spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { InMemoryFs } from "just-bash";
import { BashSession } from "./src/sandbox/bash/bash-session.ts";
import { MemoryShellStateStore } from "./src/sandbox/bash/shell-state.ts";
import { SEED_FILES } from "./test/fixtures/bash-corpus.ts";
const cmds = process.argv.slice(2).length ? process.argv.slice(2) : (await import("node:fs")).readFileSync("/tmp/cmds.txt", "utf8").split("\n").filter(Boolean);
for (const command of cmds) {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "probe-")));
  for (const [p, c] of Object.entries(SEED_FILES)) { mkdirSync(dirname(join(dir, p)), { recursive: true }); writeFileSync(join(dir, p), c); }
  const real = spawnSync("/bin/bash", ["-c", command], { cwd: dir, env: { LC_ALL: "C", PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir }, encoding: "utf8" });
  const fs = new InMemoryFs(); await fs.mkdir(dir, { recursive: true });
  for (const [p, c] of Object.entries(SEED_FILES)) { await fs.mkdir(dirname(join(dir, p)), { recursive: true }); await fs.writeFile(join(dir, p), c); }
  const s = new BashSession(fs, new MemoryShellStateStore(), { cwd: dir, env: { HOME: dir, LC_ALL: "C" } });
  const r = await s.run({ command, timeout_ms: 10000 });
  const same = r.stdout === real.stdout && r.exitCode === real.status;
  console.log(`${same ? "SAME" : "DIFF"} ${command}`);
  if (!same) console.log(`   bash: ${JSON.stringify(real.stdout)} (${real.status})\n   sbx:  ${JSON.stringify(r.stdout)} (${r.exitCode}) ${JSON.stringify(r.stderr.slice(0,200))}`);
}

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { BashSession } from "../../src/sandbox/bash/bash-session.ts";
import { MemoryShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";

// The GNU-fidelity commands run inside workerd too, where just-bash is its browser build (a
// different bundle from the one the Node fidelity corpus exercises). Expected outputs are GNU's.
const CASES: [command: string, stdout: string][] = [
  ["printf 'b\\nB\\n_x\\na\\n' | sort", "B\n_x\na\nb\n"],
  ["printf 'b 2\\na 10\\nc 1\\n' | sort -k2,2n", "c 1\nb 2\na 10\n"],
  ["printf 'a\\na\\nb\\n' | uniq -c", "      2 a\n      1 b\n"],
  ["mkdir d && touch d/x f1 f2 && ls f2 d f1", "f1\nf2\n\nd:\nx\n"],
  ["mkdir -p s && echo hit > s/a && grep -r hit", "s/a:hit\n"],
  ["mkdir -p s && echo hit > s/a && grep -rl hit .", "./s/a\n"],
  ["printf '1\\n2\\n3\\n' > a; printf '1\\n3\\n4\\n' > b; diff a b; echo $?", "2d1\n< 2\n3a3\n> 4\n1\n"],
  ["printf '1\\n2\\n' > a; printf '1\\n3\\n' > b; diff -u a b | tail -n +3", "@@ -1,2 +1,2 @@\n 1\n-2\n+3\n"],
  ["printf 'x y\\nz\\n' | xargs -I{} echo '<{}>'", "<x y>\n<z>\n"],
  ["seq 4 | paste -sd,", "1,2,3,4\n"],
  ["seq 5 | head -n -2", "1\n2\n3\n"],
  ["echo a > f; sed -i.orig s/a/b/ f; cat f f.orig", "b\na\n"],
  ["seq 10 > n; wc -l n f 2>/dev/null; cat n | wc", "10 n\n10 total\n     10      10      21\n"],
  ["mkdir -p r && realpath r/../r/x", "/workspace/r/x\n"],
  ["which jq sort", "/usr/bin/jq\n/usr/bin/sort\n"],
];

test("GNU-fidelity commands behave the same inside workerd", () =>
  runInDurableObject(
    env.REGISTRY.get(env.REGISTRY.idFromName(`bash-commands-${crypto.randomUUID()}`)),
    async (_i, state) => {
      const fs = new SqliteFs(state.storage);
      for (const [command, stdout] of CASES) {
        await fs.rm("/workspace", { recursive: true });
        await fs.mkdir("/workspace");
        const session = new BashSession(fs, new MemoryShellStateStore());
        const result = await session.run({ command });
        expect({ command, stdout: result.stdout, stderr: result.stderr }).toEqual({ command, stdout, stderr: "" });
      }
    },
  ));

/**
 * A warm bash command in a Durable Object over its SQLite filesystem, without the HTTP route in
 * front (the sandbox suite measures the whole call): our shell layer plus just-bash.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { BashSession } from "../../src/sandbox/bash/bash-session.ts";
import { SqlShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { summarise } from "./record.ts";

test("a warm bash command in a Durable Object (SqliteFs)", async ({ task }) => {
  const stub = env.REGISTRY.get(env.REGISTRY.idFromName(`bash-measure-${crypto.randomUUID()}`));
  const times = await runInDurableObject(stub, async (_instance, state) => {
    const fs = new SqliteFs(state.storage);
    const bash = new BashSession(fs, new SqlShellStateStore(state.storage.sql));
    for (let i = 0; i < 10; i++) await bash.run({ command: "echo warm" });
    const samples: number[] = [];
    for (let i = 0; i < 100; i++) {
      const started = performance.now();
      const result = await bash.run({ command: "echo hi | tr a-z A-Z" });
      samples.push(performance.now() - started);
      expect(result.stdout).toBe("HI\n");
    }
    return samples;
  });
  // workerd's clock moves in coarse steps, so the mean over the batch says more than one sample.
  const mean = Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 100) / 100;
  task.meta.benchRows = [{ benchmark: "warm bash command (echo | tr)", ...summarise(times), meanMs: mean }];
});

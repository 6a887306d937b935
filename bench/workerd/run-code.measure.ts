/**
 * run_code inside workerd: a fresh isolate per run beside the loader's own fresh and cached cost,
 * and what the deadline guard costs a tight loop. The results checks are there to make sure the
 * thing timed is the thing meant; the numbers go to the bench table, never into assertions.
 */
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import type { SandboxFiles } from "../../src/sandbox/run-code/files.ts";
import { ISOLATE_COMPATIBILITY, runCode } from "../../src/sandbox/run-code/run-code.ts";
import { summarise, timed } from "./record.ts";

const RUNS = 50;
const noFiles: SandboxFiles = {
  readFile: () => Promise.reject(new Error("no files")),
  writeFile: () => Promise.reject(new Error("no files")),
};

const TINY_MODULE = "export default { fetch() { return new Response('ok'); } }";
const tinyWorker = () => ({
  ...ISOLATE_COMPATIBILITY,
  mainModule: "main.js",
  modules: { "main.js": TINY_MODULE },
  globalOutbound: null,
});

test("run_code: a fresh isolate per run, beside the loader's fresh and cached cost", async ({ task }) => {
  const code = `console.log("hi"); return 1 + 1;`;
  const runs: number[] = [];
  const fresh: number[] = [];
  const cached: number[] = [];
  const id = `measure-${crypto.randomUUID()}`;
  for (let i = 0; i < RUNS; i++) {
    await timed(runs, async () => {
      const result = await runCode(env.LOADER, { code, language: "javascript" }, { files: noFiles, allowHosts: [] });
      expect(result).toMatchObject({ stdout: "hi\n", result: 2, timedOut: false });
    });
    await timed(fresh, async () => {
      const response = await env.LOADER.load(tinyWorker()).getEntrypoint().fetch("http://isolate/");
      expect(await response.text()).toBe("ok");
    });
    await timed(cached, async () => {
      const response = await env.LOADER.get(id, tinyWorker).getEntrypoint().fetch("http://isolate/");
      expect(await response.text()).toBe("ok");
    });
  }
  task.meta.benchRows = [
    { benchmark: "run_code (runCode, fresh isolate)", ...summarise(runs) },
    { benchmark: "loader, tiny module, fresh (load)", ...summarise(fresh) },
    { benchmark: "loader, tiny module, cached (get)", ...summarise(cached) },
  ];
});

test("the deadline guard's cost on a tight loop", async ({ task }) => {
  const loop = "let s = 0; for (let i = 0; i < 5e7; i++) { s += i & 7; }";
  const guarded: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < 5; i++) {
    await timed(guarded, async () => {
      const result = await runCode(
        env.LOADER,
        { code: `${loop} return s;`, language: "javascript" },
        { files: noFiles, allowHosts: [] },
      );
      expect(result.result).toBe(175_000_000);
    });
    // The same loop without the guard, in an isolate built by hand.
    await timed(plain, async () => {
      const worker = env.LOADER.load({
        ...tinyWorker(),
        modules: { "main.js": `export default { fetch() { ${loop} return new Response(String(s)); } }` },
      });
      const response = await worker.getEntrypoint().fetch("http://isolate/");
      expect(await response.text()).toBe("175000000");
    });
  }
  const g = summarise(guarded);
  const p = summarise(plain);
  task.meta.benchRows = [
    { benchmark: "5e7-iteration loop incl. isolate start, guarded", ...g },
    { benchmark: "5e7-iteration loop incl. isolate start, unguarded", ...p },
    { benchmark: "guard overhead (guarded / unguarded p50)", ratio: Math.round((g.p50Ms / p.p50Ms) * 100) / 100 },
  ];
});

import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import type { SandboxFiles } from "../../src/sandbox/run-code/files.ts";
import { ISOLATE_COMPATIBILITY, runCode } from "../../src/sandbox/run-code/run-code.ts";

// Read-outs for the record, logged and not asserted (timings depend on the machine's load); the
// assertions are only about behaviour. Benchmarks proper belong to `npm run bench`.

const RUNS = 50;
const noFiles: SandboxFiles = {
  readFile: () => Promise.reject(new Error("no files")),
  writeFile: () => Promise.reject(new Error("no files")),
};

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]): string {
  return `p50 ${percentile(samples, 50).toFixed(2)} ms, p90 ${percentile(samples, 90).toFixed(2)} ms (n=${samples.length})`;
}

async function timed(times: number[], work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await work();
  times.push(performance.now() - started);
}

const TINY_MODULE = "export default { fetch() { return new Response('ok'); } }";
const tinyWorker = () => ({
  ...ISOLATE_COMPATIBILITY,
  mainModule: "main.js",
  modules: { "main.js": TINY_MODULE },
  globalOutbound: null,
});

test("run_code p50: a fresh isolate per run, beside the loader's fresh and cached cost", async () => {
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
  console.log(`run_code (runCode, fresh isolate): ${summary(runs)}`);
  console.log(`loader, tiny module, fresh (load): ${summary(fresh)}`);
  console.log(`loader, tiny module, cached (get): ${summary(cached)}`);
}, 120_000);

test("guard overhead on a tight loop", async () => {
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
  console.log(
    `5e7-iteration loop incl. isolate start, guarded: ${summary(guarded)}, min ${Math.min(...guarded).toFixed(0)} ms; unguarded: ${summary(plain)}, min ${Math.min(...plain).toFixed(0)} ms`,
  );
}, 120_000);

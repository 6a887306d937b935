import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import type { SandboxFiles } from "../../src/sandbox/run-code/files.ts";
import { FilesTarget } from "../../src/sandbox/run-code/files.ts";
import { guardCode } from "../../src/sandbox/run-code/guard.ts";
import { type IsolateOutcome, isolateModules } from "../../src/sandbox/run-code/isolate-source.ts";
import { runCode } from "../../src/sandbox/run-code/run-code.ts";

// Measurements, logged for the record; the assertions are only about behaviour (every run worked).
// Numbers depend on the machine's load: benchmarks live in bench/, these are a quick read-out.

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

interface Isolate extends Rpc.WorkerEntrypointBranded {
  run(config: object, files: FilesTarget): Promise<IsolateOutcome>;
}

test("run_code timings: fresh isolate per run vs a cached isolate", async () => {
  const code = `console.log("hi"); return 1 + 1;`;
  const fresh: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = await runCode(env.LOADER, { code, language: "javascript" }, { files: noFiles, allowHosts: [] });
    fresh.push(performance.now() - started);
    expect(result).toMatchObject({ stdout: "hi\n", result: 2, timedOut: false });
  }

  // The same modules under one id: the loader keeps the isolate, so only the RPC call remains.
  const modules = isolateModules(guardCode(code));
  const id = `measure-${crypto.randomUUID()}`;
  const cached: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const worker = env.LOADER.get(id, () => ({ compatibilityDate: "2026-11-01", mainModule: "main.js", modules, globalOutbound: null }));
    const outcome = await worker.getEntrypoint<Isolate>().run({ timeoutMs: 5_000, maxChecks: 5e9, network: false }, new FilesTarget(noFiles));
    cached.push(performance.now() - started);
    expect(outcome.resultJson).toBe("2");
  }
  console.log(`run_code, fresh isolate (runCode): ${summary(fresh)}`);
  console.log(`same modules, cached isolate:     ${summary(cached)}`);
}, 120_000);

test("guard overhead on a tight loop", async () => {
  const loop = "let s = 0; for (let i = 0; i < 2e7; i++) { s += i & 7; } return s;";
  const guarded: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < 5; i++) {
    let started = performance.now();
    const result = await runCode(env.LOADER, { code: loop, language: "javascript" }, { files: noFiles, allowHosts: [] });
    guarded.push(performance.now() - started);
    expect(result.result).toBe(70_000_000);
    // The same loop without the guard, in an isolate built by hand.
    started = performance.now();
    const worker = env.LOADER.load({
      compatibilityDate: "2026-11-01",
      mainModule: "main.js",
      modules: { "main.js": `export default { async fetch() { ${loop.replace("return s;", "return new Response(String(s));")} } }` },
      globalOutbound: null,
    });
    const response = await worker.getEntrypoint().fetch("http://isolate/");
    expect(await response.text()).toBe("70000000");
    plain.push(performance.now() - started);
  }
  console.log(`2e7-iteration loop, guarded: ${summary(guarded)}; unguarded: ${summary(plain)}`);
}, 120_000);

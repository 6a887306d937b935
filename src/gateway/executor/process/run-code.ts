/**
 * run_code on the executor's machine: JavaScript run by a real Node process per call, under
 * Node's permission model (`--permission`, files readable and writable only inside the
 * workspace; no child processes, workers or native addons), with the workspace as its working
 * directory, and under bwrap like the shell (sandbox-launch.ts) where bwrap is installed.
 *
 *   const runCode = createRunCode({ workspace, config, sandboxEnv });   // ToolContext.runCode
 *
 * The code follows the edge's convention, rewritten by the same parser (guard.ts): the body of
 * an async function, `await` at the top level, `return x` or a last expression statement gives
 * the result (reported as JSON), import declarations and import() refused before anything runs.
 * console.log/info/debug/dir write stdout and console.warn/error/trace stderr (Node's own
 * console), streamed through the same 100 KiB cap as bash; `files.readFile/writeFile/listFiles`
 * reach the workspace with the edge's path rules (relative to /workspace, nothing outside it).
 *
 * Differences from the edge, where the code runs in a Dynamic Worker isolate:
 *  - Node's globals are there (`process`, `Buffer`, `require` of node: modules), limited by the
 *    permission model rather than absent;
 *  - the deadline is enforced by killing the process, so the guard calls are no-ops here;
 *  - network: reachable unless the executor runs under bwrap with network "off" (the edge's
 *    per-host allow list is not applied here, so `networkRefused` is always empty);
 *  - the run ends when the code's function settles: timers still pending are dropped, and an
 *    error thrown later by a callback ends the process (reported with its stderr).
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { CodeSyntaxError, guardCode } from "../../../sandbox/run-code/guard.ts";
import type { RunCode, RunCodeInput, RunCodeResult } from "../../../sandbox/tools/context.ts";
import { OutputCapture } from "./output-capture.ts";
import { killLaunched, launch, type ProcessOptions, sandboxWorkdir } from "./sandbox-launch.ts";
import { watch } from "./watchdog.ts";

/** The edge's run_code default (src/sandbox/run-code/run-code.ts, which only loads in workerd). */
export const RUN_CODE_DEFAULT_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 5_000;

// Runs in the child (`node -e`): reads the guarded body from stdin, runs it, writes the outcome
// as JSON to fd 3, then exits so pending timers cannot keep it alive.
const RUNNER = `
const fs = require("node:fs");
const path = require("node:path");
const describe = (e) => (e instanceof Error ? e.name + ": " + e.message : "Uncaught " + String(e));
// A pipe that is full queues writes: exit only once stdout and stderr have drained.
const report = (outcome) => {
  try { fs.writeSync(3, JSON.stringify(outcome)); } catch {}
  process.stdout.write("", () => process.stderr.write("", () => process.exit(0)));
};
const workdir = process.cwd();
const real = (p) => {
  const abs = path.posix.resolve("/workspace", String(p));
  if (abs !== "/workspace" && !abs.startsWith("/workspace/")) throw new Error(String(p) + ": outside /workspace");
  return path.join(workdir, abs.slice("/workspace".length));
};
globalThis.files = {
  readFile: async (p) => fs.promises.readFile(real(p), "utf8"),
  writeFile: async (p, text) => { await fs.promises.writeFile(real(p), String(text)); },
  listFiles: async (dir = ".") => fs.promises.readdir(real(dir)),
};
let source = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { source += chunk; });
process.stdin.on("end", async () => {
  const { guardName, body } = JSON.parse(source);
  const AsyncFunction = (async () => {}).constructor;
  let fn;
  try { fn = new AsyncFunction(guardName, "require", body); } catch (e) { return report({ error: describe(e) }); }
  try {
    const value = await fn(() => {}, require);
    const json = value === undefined ? undefined : JSON.stringify(value);
    report(json === undefined ? {} : { resultJson: json });
  } catch (e) { report({ error: describe(e) }); }
});
`;

interface RunnerOutcome {
  resultJson?: string;
  error?: string;
}

export function createRunCode(options: ProcessOptions): RunCode {
  return (input) => runCodeProcess(options, input);
}

export async function runCodeProcess(options: ProcessOptions, input: RunCodeInput): Promise<RunCodeResult> {
  const started = performance.now();
  const timeoutMs = input.timeout_ms ?? RUN_CODE_DEFAULT_TIMEOUT_MS;
  const finish = (outcome: Omit<RunCodeResult, "durationMs" | "networkRefused">): RunCodeResult => ({
    ...outcome,
    networkRefused: [],
    durationMs: performance.now() - started,
  });
  let guarded: ReturnType<typeof guardCode>;
  try {
    guarded = guardCode(input.code);
  } catch (error) {
    if (!(error instanceof CodeSyntaxError)) throw error;
    return finish({ stdout: "", stderr: "", error: `SyntaxError: ${error.message}`, timedOut: false });
  }

  const node = options.nodePath ?? process.execPath;
  const workdir = sandboxWorkdir(options);
  const args = [
    "--permission",
    `--allow-fs-read=${workdir}`,
    `--allow-fs-write=${workdir}`,
    "--disable-warning=ExperimentalWarning",
    "-e",
    RUNNER,
  ];
  const spec = launch(options, [node, ...args]);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ["pipe", "pipe", "pipe", "pipe"],
    detached: true,
  });
  // The permission model refuses child processes, so the process itself is all there is to stop.
  const watchdog = !spec.contained && child.pid !== undefined ? watch(child.pid) : undefined;
  const capture = new OutputCapture(undefined);
  child.stdout?.on("data", (bytes: Buffer) => capture.push("stdout", bytes));
  child.stderr?.on("data", (bytes: Buffer) => capture.push("stderr", bytes));
  let report = "";
  (child.stdio[3] as Readable).on("data", (bytes: Buffer) => {
    report += bytes.toString("utf8");
  });
  const stdin = child.stdin as Writable;
  stdin.on("error", () => {});
  stdin.end(JSON.stringify(guarded));

  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => {
      capture.push("stderr", Buffer.from(`run_code: could not start ${node}: ${error.message}\n`));
      resolve({ code: 127, signal: null });
    });
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const first = await Promise.race([closed, expired]);
  clearTimeout(timer);
  if (first !== "timeout") watchdog?.dismiss();
  if (first === "timeout") {
    if (child.pid !== undefined) killLaunched(child.pid, spec.contained);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS))]);
    watchdog?.dismiss();
    const output = capture.finish();
    return finish({
      stdout: output.stdout,
      stderr: output.stderr,
      error: `run_code timed out after ${timeoutMs} ms`,
      timedOut: true,
    });
  }
  // Normal end: make sure nothing it might have left (it cannot spawn, but be sure) survives.
  if (child.pid !== undefined && spec.contained) killLaunched(child.pid, true);
  const output = capture.finish();
  const base = { stdout: output.stdout, stderr: output.stderr, timedOut: false };
  const outcome = parseOutcome(report);
  if (!outcome) {
    const how = first.signal ? `signal ${first.signal}` : `exit code ${first.code}`;
    return finish({ ...base, error: `the code's process ended without a result (${how})` });
  }
  if (outcome.error !== undefined) return finish({ ...base, error: outcome.error });
  return finish(outcome.resultJson === undefined ? base : { ...base, result: JSON.parse(outcome.resultJson) });
}

function parseOutcome(text: string): RunnerOutcome | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as RunnerOutcome) : undefined;
  } catch {
    return undefined;
  }
}

import { TetherError } from "../../errors/tether-error.ts";
import { FilesTarget, type SandboxFiles } from "./files.ts";
import { CodeSyntaxError, guardCode } from "./guard.ts";
import { type IsolateConfig, type IsolateOutcome, isolateModules } from "./isolate-source.ts";

/**
 * run_code: JavaScript in a fresh Dynamic Worker isolate per call.
 *
 * The code is the body of an async function: `await` works at the top level, `return x` gives
 * the result, and when the last statement is an expression its value is the result (like a
 * REPL). The result is reported as JSON. `console.log/info/debug/dir` go to stdout,
 * `console.warn/error/trace` to stderr. A `files` global reaches the sandbox's filesystem:
 * `await files.readFile(path)`, `await files.writeFile(path, text)`, `await files.listFiles(dir?)`,
 * relative paths resolved against /workspace. Without an allow list the code has no network at
 * all; with one, fetch() goes through the egress gate (egress-gate.ts).
 *
 * Stopping code: the guard (guard.ts) throws at loop back-edges and function entries once the
 * deadline has passed, and keeps throwing, so catch blocks cannot swallow it; a timer in the
 * isolate covers code that is waiting instead of running. Production also gets `limits.cpuMs`
 * (workerd ignores it locally, where one busy loop would block the whole process).
 *
 * Why a guard-call budget as well as the clock: in production Workers, Date.now() only advances
 * on I/O (a Spectre mitigation), so a loop that never awaits sees a frozen clock and the
 * deadline alone never fires there. The budget bounds such a loop by counting guard calls:
 * CHECKS_PER_MS per millisecond of timeout. A guard call costs ~1.5 ns on this machine (measured
 * on an empty loop), so where the clock moves the deadline fires first; where it does not, the
 * budget ends a guard-heavy loop near the timeout. `limits.cpuMs` remains the hard stop for code
 * that spends its time inside one builtin call (a huge sort, a pathological regex), which no
 * guard can interrupt.
 */

/** Validated by the run_code tool's schema (src/sandbox/tools/run-code.ts) before it gets here. */
export interface RunCodeInput {
  code: string;
  language: "javascript";
  timeout_ms?: number;
}

export interface RunCodeOptions {
  files: SandboxFiles;
  /** The sandbox's `network.allow` list; empty means no network. */
  allowHosts: string[];
  /** The egress gate (`ctx.exports.EgressGate({ props: { allow } })`); required when allowHosts is not empty. */
  egress?: Fetcher;
  /** CPU limit for production; defaults to the timeout. */
  cpuMs?: number;
}

export interface RunCodeResult {
  stdout: string;
  stderr: string;
  /** The returned value, parsed from JSON; absent when the code returned undefined or failed. */
  result?: unknown;
  /** The uncaught error, syntax error or timeout that ended the code, as text. */
  error?: string;
  timedOut: boolean;
  /** URLs the code tried to fetch and the allow list refused, in order. */
  networkRefused: string[];
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const CHECKS_PER_MS = 1_000_000;
/** How long the host waits beyond the timeout before giving up on an isolate that does not answer. */
const HOST_GRACE_MS = 2_000;
/**
 * The isolate's runtime: standard Workers APIs only. From 2026-08-04 the date alone turns on the
 * Node.js compatibility layer (`Buffer`, `process`, `node:*`), which took ~1.5 ms of every fresh
 * isolate's start-up here (about a third of it); run_code does not offer it: import declarations
 * and import() are refused, so only those two globals would be reachable anyway.
 */
export const ISOLATE_COMPATIBILITY = {
  compatibilityDate: "2026-11-01",
  compatibilityFlags: ["no_nodejs_compat", "no_nodejs_compat_v2"],
};

/** The RPC surface of the loaded isolate (main.js in isolate-source.ts). */
interface RunCodeIsolate extends Rpc.WorkerEntrypointBranded {
  run(config: IsolateConfig, files: FilesTarget): Promise<IsolateOutcome>;
}

export async function runCode(
  loader: WorkerLoader,
  input: RunCodeInput,
  options: RunCodeOptions,
): Promise<RunCodeResult> {
  const started = performance.now();
  const finish = (outcome: Omit<RunCodeResult, "durationMs">): RunCodeResult => ({
    ...outcome,
    durationMs: performance.now() - started,
  });
  const timeoutMs = input.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const network = options.allowHosts.length > 0;
  if (network && !options.egress) {
    throw new TetherError("internal", "run_code: a network allow list needs the egress gate (options.egress)");
  }

  let modules: Record<string, string>;
  try {
    modules = isolateModules(guardCode(input.code));
  } catch (error) {
    if (!(error instanceof CodeSyntaxError)) throw error;
    return finish({
      stdout: "",
      stderr: "",
      error: `SyntaxError: ${error.message}`,
      timedOut: false,
      networkRefused: [],
    });
  }

  // load() never caches: every call gets a fresh isolate, so nothing leaks from one run to the next.
  const worker = loader.load({
    ...ISOLATE_COMPATIBILITY,
    mainModule: "main.js",
    modules,
    globalOutbound: network ? options.egress : null,
    limits: { cpuMs: options.cpuMs ?? timeoutMs },
  });
  const isolate = worker.getEntrypoint<RunCodeIsolate>();
  const config: IsolateConfig = { timeoutMs, maxChecks: timeoutMs * CHECKS_PER_MS, network };
  const files = new FilesTarget(options.files);

  let timer: ReturnType<typeof setTimeout> | undefined;
  const noAnswer = new Promise<"no answer">((resolve) => {
    timer = setTimeout(() => resolve("no answer"), timeoutMs + HOST_GRACE_MS);
  });
  try {
    const outcome = await Promise.race([isolate.run(config, files), noAnswer]);
    if (outcome === "no answer") {
      const error = `run_code timed out after ${timeoutMs} ms: the isolate did not answer`;
      return finish({ stdout: "", stderr: "", error, timedOut: true, networkRefused: [] });
    }
    const { resultJson, ...rest } = outcome;
    return finish(resultJson === undefined ? rest : { ...rest, result: JSON.parse(resultJson) });
  } catch (error) {
    // The isolate itself failed: a module V8 rejects, or (production) the CPU limit was hit.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const timedOut = /exceeded CPU/i.test(message);
    const text = timedOut ? `run_code timed out: ${message}` : message;
    return finish({ stdout: "", stderr: "", error: text, timedOut, networkRefused: [] });
  } finally {
    clearTimeout(timer);
  }
}

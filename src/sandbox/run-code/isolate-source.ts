import { EGRESS_REFUSED_HEADER, refusalMessage } from "./egress-gate.ts";
import type { GuardedCode } from "./guard.ts";

/**
 * The modules of one run_code isolate:
 *   main.js     the entrypoint: a WorkerEntrypoint whose `run(config, files)` the host calls over RPC;
 *   runtime.js  the guard, console capture, the `files` global, the fetch wrapper, the deadline;
 *   user.js     the guarded user code as the body of `export default async function`, starting on
 *               line 1 so stack-trace line numbers are the user's own.
 * Code generation from strings (eval, new Function) is disabled in Workers, so the guarded module
 * is the only code that runs: nothing can build an unguarded loop at run time.
 *
 * The runtime is plain JavaScript kept as text: it runs inside the loaded isolate, not in this
 * bundle (turning a bundled function back into source would drag the bundler's helpers along).
 */

/** Console output kept per stream inside the isolate (characters); the tools cap it further. */
export const OUTPUT_CAP = 1024 * 1024;

/** The clock is read on every 16th guard call: ~57 ns per read here, 1.5 ns per plain call. */
const CLOCK_EVERY = 16;

export interface IsolateConfig {
  timeoutMs: number;
  /** Guard calls allowed before the run is stopped even if the clock has not moved (see run-code.ts). */
  maxChecks: number;
  /** Whether fetch() goes to the egress gate at all; false means every request is refused. */
  network: boolean;
}

export interface IsolateOutcome {
  stdout: string;
  stderr: string;
  /** JSON text of the returned value, absent when the code returned undefined. */
  resultJson?: string;
  error?: string;
  timedOut: boolean;
  networkRefused: string[];
}

export function isolateModules(guarded: GuardedCode): Record<string, string> {
  return {
    "main.js": MAIN,
    "runtime.js": RUNTIME,
    "user.js": `import { guard as ${guarded.guardName} } from "./runtime.js"; export default async function () {${guarded.body}\n}\n`,
  };
}

const MAIN = `import { WorkerEntrypoint } from "cloudflare:workers";
import { run } from "./runtime.js";
import main from "./user.js";
export default class RunCode extends WorkerEntrypoint {
  run(config, files) { return run(main, config, files); }
}
`;

const RUNTIME = `// Captured before the user's code can replace them.
const clock = Date.now.bind(Date);
const setTimer = setTimeout;
const clearTimer = clearTimeout;
const realFetch = globalThis.fetch;
const OUTPUT_CAP = ${OUTPUT_CAP};
const CLOCK_MASK = ${CLOCK_EVERY - 1};
const REFUSED_HEADER = ${JSON.stringify(EGRESS_REFUSED_HEADER)};
const REFUSAL = ${JSON.stringify(refusalMessage("{url}"))};
const TIMED_OUT = Symbol("timed out");

class RunStopped extends Error {
  constructor(message) { super(message); this.name = "RunStopped"; }
}

// Once set, every guard call, catch clause and finally block throws: the code cannot go on.
let stopReason = null;
let timeoutMs = 0;
let deadline = Infinity;
let budget = Infinity;
let checks = 0;

function stop(reason) {
  if (stopReason === null) stopReason = reason;
  throw new RunStopped(stopReason);
}

export function guard() {
  if (stopReason !== null) throw new RunStopped(stopReason);
  if ((++checks & CLOCK_MASK) !== 0) return;
  if (clock() >= deadline) stop("run_code timed out after " + timeoutMs + " ms: stopped by the deadline guard");
  if (checks >= budget) stop("run_code timed out: stopped after " + checks + " guard checks, the iteration bound for a " + timeoutMs + " ms timeout");
}

function sink() { return { parts: [], size: 0, truncated: false }; }

function write(out, text) {
  if (out.truncated) return;
  const room = OUTPUT_CAP - out.size;
  if (text.length <= room) { out.parts.push(text); out.size += text.length; return; }
  out.parts.push(text.slice(0, room), "\\n[output truncated at " + OUTPUT_CAP + " characters]\\n");
  out.size = OUTPUT_CAP;
  out.truncated = true;
}

function replacer() {
  const seen = new WeakSet();
  return function (key, value) {
    if (typeof value === "bigint") return value + "n";
    if (typeof value === "function") return "[Function " + (value.name || "(anonymous)") + "]";
    if (typeof value === "symbol") return value.toString();
    if (value instanceof Map) return Object.fromEntries(value);
    if (value instanceof Set) return Array.from(value);
    if (value instanceof Error) return value.name + ": " + value.message;
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) return "[Circular]";
      seen.add(value);
    }
    return value;
  };
}

function formatValue(value) {
  try {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack || value.name + ": " + value.message;
    if (typeof value === "function") return "[Function " + (value.name || "(anonymous)") + "]";
    if (typeof value === "bigint") return value + "n";
    if (typeof value !== "object" || value === null) return String(value);
    const text = JSON.stringify(value, replacer());
    return text === undefined ? String(value) : text;
  } catch (error) {
    if (error instanceof RunStopped) throw error;
    return "[unprintable value]";
  }
}

function describeError(error) {
  try {
    if (error instanceof RunStopped) return error.message;
    if (error instanceof Error) {
      const line = /user\\.js:(\\d+):\\d+/.exec(String(error.stack));
      return error.name + ": " + error.message + (line ? " (line " + line[1] + ")" : "");
    }
    return "Uncaught " + formatValue(error);
  } catch {
    return "Uncaught error (not describable)";
  }
}

function toResultJson(value) {
  if (value === undefined) return undefined;
  let text;
  try { text = JSON.stringify(value, replacer()); } catch { text = undefined; }
  if (text === undefined) text = JSON.stringify(formatValue(value));
  if (text.length > OUTPUT_CAP) text = JSON.stringify(text.slice(0, OUTPUT_CAP) + " [result truncated at " + OUTPUT_CAP + " characters]");
  return text;
}

function installConsole(stdout, stderr) {
  const to = (out) => (...args) => write(out, args.map(formatValue).join(" ") + "\\n");
  Object.assign(console, {
    log: to(stdout), info: to(stdout), debug: to(stdout), dir: to(stdout), trace: to(stderr),
    warn: to(stderr), error: to(stderr),
  });
}

function installFetch(config, refused) {
  const refuse = (url) => {
    refused.push(url);
    throw new TypeError(REFUSAL.replace("{url}", url));
  };
  globalThis.fetch = async function fetch(input, init) {
    const request = new Request(input, init);
    if (!config.network) return refuse(request.url);
    const response = await realFetch(request);
    const refusedUrl = response.headers.get(REFUSED_HEADER);
    if (refusedUrl === null) return response;
    try { await response.body?.cancel(); } catch {}
    return refuse(refusedUrl);
  };
}

function installFiles(files) {
  globalThis.files = Object.freeze({
    readFile: (path) => files.readFile(path),
    writeFile: (path, content) => files.writeFile(path, content),
    listFiles: (dir) => files.listFiles(dir),
  });
}

export async function run(main, config, files) {
  timeoutMs = config.timeoutMs;
  deadline = clock() + config.timeoutMs;
  budget = config.maxChecks;
  const stdout = sink();
  const stderr = sink();
  const refused = [];
  installConsole(stdout, stderr);
  installFetch(config, refused);
  installFiles(files);
  addEventListener("unhandledrejection", (event) => {
    if (event.reason instanceof RunStopped) return;
    write(stderr, "Uncaught (in promise) " + describeError(event.reason) + "\\n");
  });

  let timer;
  // Covers code that waits (timers, fetch, files) past the deadline: no guard runs while it waits.
  const expired = new Promise((resolve) => { timer = setTimer(() => resolve(TIMED_OUT), config.timeoutMs); });
  let resultJson;
  let error;
  try {
    const value = await Promise.race([main(), expired]);
    if (value === TIMED_OUT) {
      if (stopReason === null) stopReason = "run_code timed out after " + timeoutMs + " ms (the code was still waiting)";
    } else if (stopReason === null) {
      resultJson = toResultJson(value);
    }
  } catch (thrown) {
    if (stopReason === null) error = describeError(thrown);
  } finally {
    clearTimer(timer);
  }
  const timedOut = stopReason !== null;
  if (timedOut) error = stopReason;
  // Callbacks still scheduled by the code die at their first guard call.
  else stopReason = "run_code has finished; later callbacks do not run";
  return {
    stdout: stdout.parts.join(""),
    stderr: stderr.parts.join(""),
    resultJson,
    error,
    timedOut,
    networkRefused: refused,
  };
}
`;

import { EGRESS_FAILED_HEADER, EGRESS_REFUSED_HEADER, refusalMessage } from "./egress-gate.ts";
import type { GuardedCode } from "./guard.ts";

/**
 * The modules of one run_code isolate:
 *   main.js     the entrypoint: a WorkerEntrypoint whose `run(config, files)` the host calls over RPC;
 *   runtime.js  the guard, console capture, the `files` global, the fetch wrapper, the deadline;
 *   user.js     the guarded user code as the body of an async function (the guard comes in as a
 *               parameter), starting on line 1 so stack-trace line numbers are the user's own.
 * Code generation from strings (eval, new Function) is disabled in Workers, so the guarded module
 * is the only code that runs: nothing can build an unguarded loop at run time.
 *
 * The runtime is plain JavaScript kept as text: it runs inside the loaded isolate, not in this
 * bundle (turning a bundled function back into source would drag the bundler's helpers along).
 */

/** Console output kept per stream inside the isolate (characters); the tools cap it further. */
export const OUTPUT_CAP = 1024 * 1024;

/** Most guard calls between two clock reads (~57 ns per read here, ~1.5 ns per plain call). */
const MAX_CLOCK_INTERVAL = 256;

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
    // The inner function has its own (empty) `arguments` and no `this`, so the guard stays out of reach.
    "user.js": `export default function (${guarded.guardName}) { return (async function () {${guarded.body}\n})(); }\n`,
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
const setRepeat = setInterval;
const enqueue = queueMicrotask;
const realFetch = globalThis.fetch;
const OUTPUT_CAP = ${OUTPUT_CAP};
const MAX_INTERVAL = ${MAX_CLOCK_INTERVAL};
const REFUSED_HEADER = ${JSON.stringify(EGRESS_REFUSED_HEADER)};
const FAILED_HEADER = ${JSON.stringify(EGRESS_FAILED_HEADER)};
const REFUSAL = ${JSON.stringify(refusalMessage("{url}"))};
const TIMED_OUT = Symbol("timed out");

class RunStopped extends Error {
  constructor(message) { super(message); this.name = "RunStopped"; }
}

// The guard the rewritten code calls (passed in as a parameter: no module-binding checks on the
// hot path). Its fast path is one counter decrement. The clock is read when the counter runs out;
// the interval doubles while reads come less than 1 ms apart (up to MAX_INTERVAL calls) and
// drops to 1 after a slow stretch, so a tight loop pays ~0.2 ns a call for the clock while a
// loop whose iterations are slow is checked on every one.
// Once stopped, every call throws, and so does every catch clause and finally block.
// It works at the edge of the stack too (code that recurses until it overflows and catches the
// RangeError makes most of its calls there): a clock read that overflows is retried by the next
// call, and the stop is recorded before anything that could overflow is called.
function createGuard(timeoutMs, maxCalls) {
  var deadline = clock() + timeoutMs;
  var lastRead = clock();
  var left = 1;
  var interval = 1;
  var calls = 0;
  var reason = null;
  function slow() {
    if (reason !== null) { left = 0; throw new RunStopped(reason); }
    left = 1;
    var now = clock();
    calls += interval;
    if (now >= deadline) reason = "run_code timed out after " + timeoutMs + " ms: stopped by the deadline guard";
    else if (calls >= maxCalls) reason = "run_code timed out after " + timeoutMs + " ms: stopped at the iteration bound for that timeout (" + calls + " guard checks)";
    if (reason !== null) { left = 0; throw new RunStopped(reason); }
    interval = now - lastRead < 1 ? Math.min(interval * 2, MAX_INTERVAL) : now - lastRead > 4 ? 1 : interval;
    lastRead = now;
    left = interval;
  }
  return {
    guard() { if (--left > 0) return; slow(); },
    stop(why) { if (reason === null) reason = why; left = 0; },
    reason() { return reason; },
  };
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

function uncaught(prefix, error) {
  return prefix + " " + (error instanceof Error ? describeError(error) : formatValue(error)) + "\\n";
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
    const failure = response.headers.get(FAILED_HEADER);
    if (refusedUrl === null && failure === null) return response;
    try { await response.body?.cancel(); } catch {}
    if (refusedUrl !== null) return refuse(refusedUrl);
    throw new TypeError(failure);
  };
}

// An error thrown by a callback would escape to the runtime's log; it goes to stderr instead,
// and a callback stopped by the guard ends quietly.
function installTimers(stderr) {
  const shield = (callback) => typeof callback !== "function" ? callback : function (...args) {
    try {
      return callback.apply(this, args);
    } catch (error) {
      if (!(error instanceof RunStopped)) write(stderr, uncaught("Uncaught", error));
    }
  };
  globalThis.setTimeout = (callback, ms, ...args) => setTimer(shield(callback), ms, ...args);
  globalThis.setInterval = (callback, ms, ...args) => setRepeat(shield(callback), ms, ...args);
  globalThis.queueMicrotask = (callback) => enqueue(shield(callback));
}

function installFiles(files) {
  const unwrap = (reply) => {
    if ("error" in reply) throw new Error(reply.error);
    return reply.value;
  };
  globalThis.files = Object.freeze({
    readFile: async (path) => unwrap(await files.readFile(path)),
    writeFile: async (path, content) => { unwrap(await files.writeFile(path, content)); },
    listFiles: async (dir) => unwrap(await files.listFiles(dir)),
  });
}

export async function run(main, config, files) {
  const control = createGuard(config.timeoutMs, config.maxChecks);
  const stdout = sink();
  const stderr = sink();
  const refused = [];
  installConsole(stdout, stderr);
  installFetch(config, refused);
  installFiles(files);
  installTimers(stderr);
  addEventListener("unhandledrejection", (event) => {
    if (event.reason instanceof RunStopped) return;
    write(stderr, uncaught("Uncaught (in promise)", event.reason));
  });

  let timer;
  // Covers code that waits (timers, fetch, files) past the deadline: no guard runs while it waits.
  const expired = new Promise((resolve) => { timer = setTimer(() => resolve(TIMED_OUT), config.timeoutMs); });
  let resultJson;
  let error;
  try {
    const value = await Promise.race([main(control.guard), expired]);
    if (value === TIMED_OUT) {
      control.stop("run_code timed out after " + config.timeoutMs + " ms (the code was still waiting)");
    } else if (control.reason() === null) {
      resultJson = toResultJson(value);
    }
  } catch (thrown) {
    if (control.reason() === null) error = describeError(thrown);
  } finally {
    clearTimer(timer);
  }
  const timedOut = control.reason() !== null;
  if (timedOut) error = control.reason();
  // Callbacks still scheduled by the code die at their first guard call.
  else control.stop("run_code has finished; later callbacks do not run");
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

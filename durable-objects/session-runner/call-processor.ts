/**
 * Runs a session's tool calls one at a time, in event order, and posts each result exactly once.
 *
 * Every step is written to the store before and after it happens (`running` before the sandbox
 * call, `stored` with the result after it, `post_tried` before a POST, `posted` after), so an
 * eviction at any point is recovered without losing or doubling a result: a result whose POST may
 * have landed is looked for in the session's log before it is sent again. Held calls (waiting for a
 * verdict) do not block later ones: the agent waits for all of them anyway. Once `signal` aborts
 * (the work is over) nothing more is run or posted.
 */

import { ApiError, isRetryableStatus, retryDelay, sleep } from "../../src/managed-agents/api-client.ts";
import { abortToolCall } from "../../src/managed-agents/runner/abort-tool-call.ts";
import {
  isReadOnlyTool,
  ownsTool,
  type ToolsetResult,
  toolsetCall,
} from "../../src/managed-agents/runner/sandbox-tools.ts";
import {
  ASSUMED_LEASE_TTL_SECONDS,
  POST_TIMEOUT_MS,
  RESULT_RETRY,
  TOOL_TIMEOUT_MS,
} from "../../src/managed-agents/runner/timings.ts";
import { failedResult, interruptedResult, toolResultEvent } from "../../src/managed-agents/runner/tool-result.ts";
import type { WorkApi } from "../../src/managed-agents/runner/work-api.ts";
import type { Sandbox } from "../sandbox.ts";
import { gate } from "./call-gate.ts";
import type { CallRow, RunnerStore } from "./store.ts";

export interface CallProcessorOptions {
  store: RunnerStore;
  api: WorkApi;
  sandbox: DurableObjectStub<Sandbox>;
  extraRoots: string[];
  /** The Managed Agents session (the caller the sandbox's audit trail records). */
  session?: string;
  signal: AbortSignal;
  /** The API refused the credentials while posting. */
  onRefused(error: ApiError): void;
}

export class CallProcessor {
  readonly #options: CallProcessorOptions;
  #loop: Promise<void> | undefined;
  #again = false;
  /** The call in the sandbox right now (to abort when the work ends). */
  #current: string | undefined;

  constructor(options: CallProcessorOptions) {
    this.#options = options;
    options.signal.addEventListener("abort", () => {
      if (this.#current !== undefined) void abortToolCall(options.sandbox, this.#current).catch(() => {});
    });
  }

  /** Something may be ready: runs the queue (again, if it is running now). */
  kick(): void {
    if (this.#loop) {
      this.#again = true;
      return;
    }
    this.#loop = this.#drain().finally(() => {
      this.#loop = undefined;
    });
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      try {
        while (!this.#options.signal.aborted && (await this.#step())) {}
      } catch (error) {
        if (this.#options.signal.aborted) return;
        this.#options.store.recordError(`tool calls: ${error instanceof Error ? error.message : String(error)}`);
      }
    } while (this.#again && !this.#options.signal.aborted);
  }

  /** One step of the oldest call with work left; false when there is none. */
  async #step(): Promise<boolean> {
    const { store } = this.#options;
    const call = store.nextCall();
    if (!call) return false;
    if (call.status === "stored") {
      await this.#post(call);
      return true;
    }
    if (!ownsTool(call.name)) {
      // Not the toolset's: the client application (or another worker) answers it; post nothing.
      store.setStatus(call.tool_use_id, "dropped");
      return true;
    }
    const decision = gate(call.permission, store.verdict(call.tool_use_id));
    if (decision === "hold") store.setStatus(call.tool_use_id, "held");
    else if (decision === "deny") store.setStatus(call.tool_use_id, "dropped", "denied");
    else await this.#run(call);
    return true;
  }

  async #run(call: CallRow): Promise<void> {
    const { store, signal } = this.#options;
    const started = Date.now();
    store.running(call.tool_use_id, started);
    this.#current = call.tool_use_id;
    let result: ToolsetResult;
    try {
      const answer = await abortable(
        toolsetCall(
          this.#options.sandbox,
          { id: call.tool_use_id, name: call.name, input: JSON.parse(call.input ?? "{}") as Record<string, unknown> },
          { extraRoots: this.#options.extraRoots, session: this.#options.session },
        ),
        signal,
        TOOL_TIMEOUT_MS,
      );
      if (answer === "timeout") {
        void abortToolCall(this.#options.sandbox, call.tool_use_id).catch(() => {});
        result = failedResult(call.name, `timed out after ${TOOL_TIMEOUT_MS / 1000} s`);
      } else if (!answer.owned) {
        store.setStatus(call.tool_use_id, "dropped");
        return;
      } else {
        result = answer.result;
      }
    } catch (error) {
      if (signal.aborted) return;
      result = failedResult(call.name, error instanceof Error ? error.message : String(error));
    } finally {
      this.#current = undefined;
    }
    if (signal.aborted) return;
    store.storeResult(call.tool_use_id, result, result.is_error ? "error" : "ok", Date.now() - started);
  }

  /** Posts a stored result, retrying 1 s·2ⁿ up to 30 s (Retry-After honoured) for one lease TTL. */
  async #post(call: CallRow): Promise<void> {
    const { store, api, signal } = this.#options;
    const id = call.tool_use_id;
    const event = toolResultEvent(id, JSON.parse(call.result ?? "null") as ToolsetResult);
    const ttlMs = (store.load()?.ttl_seconds ?? ASSUMED_LEASE_TTL_SECONDS) * 1000;
    const policy = { withinMs: ttlMs, ...RESULT_RETRY };
    const began = Date.now();
    for (let attempt = 0; !signal.aborted; attempt++) {
      let response: Response | null = null;
      try {
        const row = store.call(id);
        if (!row || row.answered === 1) return;
        // A POST sent before (by this instance or one evicted) may have landed: look before resending.
        if (row.post_tried === 1 && (await api.resultPosted(id, signal))) {
          if (!signal.aborted) store.posted(id, Date.now());
          return;
        }
        if (signal.aborted) return;
        store.postTried(id);
        // Bounded: a POST that hangs may still land, which the next attempt looks for first.
        response = await api.postResult(event, AbortSignal.any([signal, AbortSignal.timeout(POST_TIMEOUT_MS)]));
        if (response.ok) {
          await response.body?.cancel();
          store.posted(id, Date.now());
          return;
        }
        await response.body?.cancel();
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError) {
          if (error.credentialsRefused) return this.#options.onRefused(error);
          if (!isRetryableStatus(error.status)) {
            store.recordError(`posting the result of ${id}: ${error.message}`);
            store.setStatus(id, "dropped", "error");
            return;
          }
        }
        store.recordError(`posting the result of ${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const wait = retryDelay(response, attempt, policy);
      if (Date.now() + wait - began > policy.withinMs) {
        store.recordError(`posting the result of ${id}: gave up after ${Math.round((Date.now() - began) / 1000)} s`);
        store.setStatus(id, "dropped", "error");
        return;
      }
      await sleep(wait, signal).catch(() => {});
    }
  }
}

/**
 * Calls an earlier instance of the runner left `running` (it was evicted or restarted during them):
 * the read-only ones are run again, the others answered "interrupted" (they may have done their work).
 */
export function recoverInterruptedCalls(store: RunnerStore): void {
  for (const call of store.interruptedCalls()) {
    if (isReadOnlyTool(call.name)) store.setStatus(call.tool_use_id, "queued");
    else store.storeResult(call.tool_use_id, interruptedResult(call.name), "interrupted", null);
  }
}

/** The call's answer, "timeout" after `ms`, or a rejection once `signal` aborts (the call is left behind). */
function abortable<T>(call: Promise<T>, signal: AbortSignal, ms: number): Promise<T | "timeout"> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => finish(() => resolve("timeout")), ms);
    const onAbort = () => finish(() => reject(signal.reason));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      settle();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    call.then(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}

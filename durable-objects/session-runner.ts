import { DurableObject } from "cloudflare:workers";
import { ApiError, callApi, DEFAULT_RETRY } from "../src/managed-agents/api-client.ts";
import {
  type RunnerDetails,
  type RunnerStart,
  type RunnerSummary,
  type SessionRunnerRpc,
  sessionSandboxId,
} from "../src/managed-agents/runner-contract.ts";
import type { Env } from "../workers/env.ts";

/**
 * TEMPORARY stand-in for the session runner, so environments can be built and tested before the
 * real runner lands: it only acknowledges the work item and answers summary/details. It keeps no
 * lease, follows no events and runs no tools. The real `SessionRunner` replaces this whole file.
 *
 * Storage (key-value): "start" the RunnerStart (the environment key inside is write-only; deleted
 * when the work ends),
 * "summary" the RunnerSummary.
 */
export class SessionRunner extends DurableObject<Env> implements SessionRunnerRpc {
  async start(start: RunnerStart): Promise<RunnerSummary> {
    const existing = this.summary();
    // Idempotent while it runs; an item handed out again after its runner ended (an ack refused,
    // say) is new work for this runner.
    if (existing && existing.state !== "ended") return existing;
    if (start.work.data.type !== "session") throw new Error("a runner serves session work only");
    const summary: RunnerSummary = {
      workId: start.work.id,
      sessionId: start.work.data.id,
      environment: start.environment.name,
      state: "starting",
      sandboxId: sessionSandboxId(start.work.data.id),
      lease: { lastHeartbeat: null, lastHeartbeatAt: null, ttlSeconds: null },
      toolCallsAnswered: 0,
      pendingConfirmations: 0,
      lastError: null,
      startedAt: Date.now(),
      endedAt: null,
      endReason: null,
    };
    this.ctx.storage.kv.put("start", start);
    this.#save(summary);
    try {
      await callApi(credentials(start), { method: "POST", path: `${workPath(start)}/ack`, retry: DEFAULT_RETRY });
      return this.#save({ ...summary, state: "running" });
    } catch (error) {
      if (error instanceof ApiError && error.credentialsRefused) {
        await this.#environment(summary).credentialsRefused(error.status, error.apiMessage);
      }
      return this.#end(summary, "acknowledge failed", error instanceof Error ? error.message : String(error));
    }
  }

  async stop(reason: string): Promise<void> {
    const start = this.ctx.storage.kv.get<RunnerStart>("start");
    const summary = this.summary();
    if (!start || !summary || summary.state === "ended") return;
    await callApi(credentials(start), {
      method: "POST",
      path: `${workPath(start)}/stop`,
      body: { force: true },
      expect: [409],
      // The environment waits for this when deleted: a short bound, not a full retry minute.
      retry: { withinMs: 5000, baseMs: 500, capMs: 2000 },
    }).catch(() => {});
    await this.#end(summary, reason, null);
  }

  async rotateKey(environmentKey: string): Promise<void> {
    const start = this.ctx.storage.kv.get<RunnerStart>("start");
    if (start) this.ctx.storage.kv.put("start", { ...start, environmentKey });
  }

  summary(): RunnerSummary | null {
    return this.ctx.storage.kv.get<RunnerSummary>("summary") ?? null;
  }

  details(): RunnerDetails | null {
    const summary = this.summary();
    return summary ? { ...summary, toolCalls: [] } : null;
  }

  async #end(summary: RunnerSummary, reason: string, error: string | null): Promise<RunnerSummary> {
    // The key is not kept past the work it was for.
    this.ctx.storage.kv.delete("start");
    const ended = this.#save({
      ...summary,
      state: "ended",
      endedAt: Date.now(),
      endReason: reason,
      lastError: error ?? summary.lastError,
    });
    await this.#environment(summary).runnerEnded(summary.workId, ended);
    return ended;
  }

  #environment(summary: RunnerSummary) {
    return this.env.MANAGED_ENVIRONMENT.get(this.env.MANAGED_ENVIRONMENT.idFromName(summary.environment));
  }

  #save(summary: RunnerSummary): RunnerSummary {
    this.ctx.storage.kv.put("summary", summary);
    return summary;
  }
}

function credentials(start: RunnerStart) {
  return { baseUrl: start.environment.apiBaseUrl, bearer: start.environmentKey };
}

function workPath(start: RunnerStart): string {
  return `/v1/environments/${encodeURIComponent(start.environment.environmentId)}/work/${encodeURIComponent(start.work.id)}`;
}

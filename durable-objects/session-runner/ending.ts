/**
 * The end of a runner's work, resumable at every step (the store says how far it went): the
 * work is force-stopped unless the lease was lost (409, already stopped, is fine; a final 4xx
 * gives up: the lease lapses on the API's side), its credentials are forgotten, the runner is
 * marked ended, and the environment
 * is told (`runnerEnded`, idempotent on its side) until it takes it. Whatever has to be tried
 * again is left to the alarm (`retryLater`).
 */
import { ApiError } from "../../src/managed-agents/api-client.ts";
import type { WorkApi } from "../../src/managed-agents/runner/work-api.ts";
import type { EnvironmentRunnerRpc } from "../../src/managed-agents/runner-contract.ts";
import { runnerSummary } from "./status.ts";
import type { RunnerStore } from "./store.ts";

const STOP_TIMEOUT_MS = 30_000;

export interface EndingContext {
  store: RunnerStore;
  api(): WorkApi;
  environment(name: string): EnvironmentRunnerRpc;
  retryLater(): Promise<void>;
  /** Everything is done: no alarm is needed any more. */
  done(): Promise<void>;
}

export async function finishEnding(context: EndingContext): Promise<void> {
  const { store } = context;
  let row = store.load();
  if (!row) return;
  if (row.state === "ending" && row.force_stop === 1 && row.stop_done === 0) {
    try {
      await context.api().stop(AbortSignal.timeout(STOP_TIMEOUT_MS));
      store.stopDone();
    } catch (error) {
      store.recordError(`stop: ${error instanceof Error ? error.message : String(error)}`);
      const final = error instanceof ApiError && (error.credentialsRefused || error.status < 500);
      if (!final) return context.retryLater();
      store.stopDone();
    }
  }
  if (row.state === "ending") {
    store.forgetCredentials();
    store.ended(Date.now());
  }
  row = store.load();
  if (!row || row.reported === 1) return;
  try {
    await context.environment(store.environment(row).name).runnerEnded(row.work_id, runnerSummary(store, row));
    store.reported();
    await context.done();
  } catch (error) {
    store.recordError(`reporting the end: ${error instanceof Error ? error.message : String(error)}`);
    await context.retryLater();
  }
}

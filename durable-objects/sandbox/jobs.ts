import { SerialQueue } from "../../src/sandbox/serial-queue.ts";
import { noSuchSandbox } from "./caller.ts";

/**
 * Everything that runs on a sandbox's runtime (HTTP and MCP tool calls, Managed Agents toolset
 * calls) runs here: one at a time through the serial queue, each with an AbortController that
 * `invalidate` fires when the sandbox is destroyed under it.
 *
 * In memory only: an evicted object has no running jobs. `generation` is bumped when the storage
 * is wiped, so a job queued before that does not touch the new state: it fails as "no such
 * sandbox" when its turn comes, and a running one learns through `current()` that its results
 * (trace rows) no longer belong anywhere.
 */
export class SandboxJobs {
  readonly #queue = new SerialQueue();
  readonly #inflight = new Set<AbortController>();
  readonly #afterEach: () => void;
  #generation = 0;

  /** `afterEach` runs when a job of the current sandbox ends (its end is activity). */
  constructor(afterEach: () => void) {
    this.#afterEach = afterEach;
  }

  run<T>(abort: AbortController, job: (current: () => boolean) => Promise<T>): Promise<T> {
    const generation = this.#generation;
    const current = () => generation === this.#generation;
    return this.#queue.run(async () => {
      this.#inflight.add(abort);
      try {
        // Destroyed while this job waited its turn: opening the runtime would recreate tables.
        if (!current()) throw noSuchSandbox();
        return await job(current);
      } finally {
        this.#inflight.delete(abort);
        if (current()) this.#afterEach();
      }
    });
  }

  /** The sandbox's storage is being wiped: running jobs are aborted, queued ones will not start. */
  invalidate(): void {
    this.#generation++;
    for (const abort of this.#inflight) abort.abort();
  }

  /** Jobs running or waiting: an idle sandbox has none. */
  get pending(): number {
    return this.#queue.pending;
  }
}

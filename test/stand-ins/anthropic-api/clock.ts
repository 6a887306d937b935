/**
 * The stand-in's notion of time. Everything that depends on time (blocking polls, reclaiming unacked
 * work, lease expiry, slow answers, webhook retries and timestamps) goes through a clock, so tests
 * can use a ManualClock and decide exactly when time passes instead of racing real timers.
 */
import { sleep } from "../../../src/managed-agents/api-client.ts";

export interface StandInClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: StandInClock = { now: () => Date.now(), sleep };

interface Sleeper {
  until: number;
  resolve: () => void;
}

/** A clock that only moves when the test says so; sleepers wake on `advance`. */
export class ManualClock implements StandInClock {
  #now: number;
  #sleepers = new Set<Sleeper>();
  #watchers: { count: number; resolve: () => void }[] = [];

  constructor(start = Date.UTC(2026, 11, 4, 12)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper: Sleeper = {
        until: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.add(sleeper);
      this.#notify();
    });
  }

  /** Moves time forward and wakes every sleeper whose time has come. */
  advance(ms: number): void {
    this.#now += ms;
    for (const sleeper of [...this.#sleepers]) {
      if (sleeper.until <= this.#now) {
        this.#sleepers.delete(sleeper);
        sleeper.resolve();
      }
    }
  }

  /** How many sleeps are pending (a blocked poll, a slow answer, a webhook retry …). */
  get sleeping(): number {
    return this.#sleepers.size;
  }

  /** Resolves once at least `count` sleeps are pending: the moment to `advance` deterministically. */
  untilSleeping(count = 1): Promise<void> {
    if (this.#sleepers.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.push({ count, resolve }));
  }

  #notify(): void {
    this.#watchers = this.#watchers.filter((watcher) => {
      if (this.#sleepers.size < watcher.count) return true;
      watcher.resolve();
      return false;
    });
  }
}

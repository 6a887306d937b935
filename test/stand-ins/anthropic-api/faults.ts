/**
 * Fault injection for the stand-in, each bounded by a count so a test states exactly how many calls
 * misbehave: the next N matching calls answer 5xx or 429 with `Retry-After`, or answer only after a
 * delay of the stand-in's clock; the next event stream is dropped after K events; the next N events
 * are written twice on the streams (the log keeps one copy: ids are how clients dedupe).
 */
import type { StandInClock } from "./clock.ts";
import { ApiError } from "./http.ts";

/** Which calls a fault applies to: a test on `"METHOD /path"` (e.g. /^POST .*\/events$/), or every call. */
export type CallMatcher = RegExp | undefined;

interface Failure {
  remaining: number;
  status: number;
  retryAfterSeconds: number | undefined;
  match: CallMatcher;
}

interface Delay {
  remaining: number;
  ms: number;
  match: CallMatcher;
}

export class Faults {
  #failures: Failure[] = [];
  #delays: Delay[] = [];
  #streamDrops: number[] = [];
  #duplicates = 0;
  /** How many faults were applied, by kind (tests prove a fault actually happened). */
  readonly applied = { failures: 0, delays: 0, streamDrops: 0, duplicates: 0 };

  readonly #clock: StandInClock;

  constructor(clock: StandInClock) {
    this.#clock = clock;
  }

  /** The next `count` matching calls answer `status` (5xx, or 429 with `Retry-After`). */
  failNext(count: number, status: number, options: { retryAfterSeconds?: number; match?: RegExp } = {}): void {
    if (status !== 429 && (status < 500 || status > 599)) throw new Error("inject 429 or a 5xx status");
    this.#failures.push({
      remaining: count,
      status,
      retryAfterSeconds: options.retryAfterSeconds,
      match: options.match,
    });
  }

  /** The next `count` matching calls wait `ms` of the stand-in's clock before being handled. */
  slowNext(count: number, ms: number, match?: RegExp): void {
    this.#delays.push({ remaining: count, ms, match });
  }

  /** The next event stream opened is dropped right after it delivered `events` events (pings excluded). */
  dropNextStreamAfter(events: number): void {
    if (events < 1) throw new Error("a stream is dropped after at least one event");
    this.#streamDrops.push(events);
  }

  /** The next `count` events appended are written twice on every open stream. */
  duplicateNextEvents(count: number): void {
    this.#duplicates += count;
  }

  /** Applied before a call is handled: waits if a delay matches, throws if a failure matches. */
  async beforeCall(call: string, signal: AbortSignal): Promise<void> {
    const delay = this.#delays.find((d) => d.remaining > 0 && (!d.match || d.match.test(call)));
    if (delay) {
      delay.remaining--;
      this.applied.delays++;
      await this.#clock.sleep(delay.ms, signal);
    }
    const failure = this.#failures.find((f) => f.remaining > 0 && (!f.match || f.match.test(call)));
    if (!failure) return;
    failure.remaining--;
    this.applied.failures++;
    if (failure.status === 429) {
      const headers: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { "retry-after": String(failure.retryAfterSeconds) };
      throw new ApiError(429, "rate_limit_error", "rate limited by the stand-in", undefined, headers);
    }
    const type = failure.status === 529 || failure.status === 503 ? "overloaded_error" : "api_error";
    throw new ApiError(failure.status, type, "injected failure from the stand-in");
  }

  takeStreamDrop(): number {
    const drop = this.#streamDrops.shift();
    if (drop === undefined) return Number.POSITIVE_INFINITY;
    this.applied.streamDrops++;
    return drop;
  }

  takeDuplicate(): boolean {
    if (this.#duplicates === 0) return false;
    this.#duplicates--;
    this.applied.duplicates++;
    return true;
  }
}

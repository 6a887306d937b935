/**
 * When an environment polls next (protocol §8, the SDK workers' timings), as pure functions of
 * what the last poll did so they can be reasoned about (and tested) without a clock:
 *
 * - work was claimed: poll again at once (more may be queued);
 * - an empty poll: U(1, 3) s in poll mode; in webhook mode the drain is over and only the slow
 *   safety poll remains (see SAFETY_POLL_MS);
 * - an API or network error: 1 s·2ⁿ capped at 60 s, minus up to 25 % jitter, and never sooner than
 *   the answer's `Retry-After` (itself capped at 60 s);
 * - credentials refused (401/403): 60 s, whatever the mode, never faster (the key will not heal
 *   by retrying; an operator rotates it, which polls at once);
 * - at `max_sessions` live sessions: no poll at all (the work stays queued, unacknowledged, for
 *   another worker) until a runner ends.
 */
import type { EnvironmentMode } from "../../src/managed-agents/environment-config.ts";

/** `block_ms` of a poll: the API's maximum, so an idle environment costs one call per few seconds. */
export const POLL_BLOCK_MS = 999;
/** `block_ms` while draining after a webhook: the work was queued before the webhook was sent. */
export const DRAIN_BLOCK_MS = 250;

export const EMPTY_POLL_MIN_MS = 1000;
export const EMPTY_POLL_MAX_MS = 3000;
export const ERROR_BASE_MS = 1000;
export const ERROR_CAP_MS = 60_000;
export const CREDENTIALS_REFUSED_MS = 60_000;

/**
 * Webhook mode still polls once a minute: webhooks can be lost, arrive out of order, and the API
 * disables a URL after about 20 failed deliveries; a minute's delay is the worst a lost one costs.
 */
export const SAFETY_POLL_MS = 60_000;

export type PollOutcome =
  | { kind: "claimed" }
  | { kind: "empty" }
  /** `retryAfterMs`: the API's `Retry-After`, which the wait never undercuts. */
  | { kind: "error"; consecutiveErrors: number; retryAfterMs?: number }
  | { kind: "credentials_refused" };

/** Milliseconds until the next poll. `random` is Math.random unless a test decides. */
export function nextPollDelay(mode: EnvironmentMode, outcome: PollOutcome, random: () => number = Math.random): number {
  switch (outcome.kind) {
    case "claimed":
      return 0;
    case "empty":
      return mode === "webhook"
        ? SAFETY_POLL_MS
        : EMPTY_POLL_MIN_MS + Math.floor(random() * (EMPTY_POLL_MAX_MS - EMPTY_POLL_MIN_MS));
    case "error": {
      const ceiling = Math.min(
        ERROR_CAP_MS,
        ERROR_BASE_MS * 2 ** Math.min(Math.max(outcome.consecutiveErrors - 1, 0), 30),
      );
      return Math.max(Math.floor(ceiling * (1 - 0.25 * random())), Math.min(outcome.retryAfterMs ?? 0, ERROR_CAP_MS));
    }
    case "credentials_refused":
      return CREDENTIALS_REFUSED_MS;
  }
}

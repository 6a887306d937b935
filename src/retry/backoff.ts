/**
 * Reconnect delays: exponential backoff with full jitter (a uniformly random delay below an
 * exponentially growing ceiling), so a fleet of gateways cut off at once does not reconnect in
 * lock-step when the edge comes back.
 */
export interface BackoffOptions {
  /** Ceiling of the first retry. */
  baseMs: number;
  /** The ceiling never grows beyond this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** Upper bound of the delay before retry number `attempt` (0 for the first retry). */
export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
}

/** Delay before retry number `attempt`: uniform in [0, ceiling). `random` is Math.random unless tested. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

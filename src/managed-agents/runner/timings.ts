/**
 * The session runner's timings, as the protocol document gives them (§8). Kept in one place so the
 * runner's parts agree and tests can read what they wait for.
 */

/** TTL assumed for a lease until a heartbeat says otherwise. */
export const ASSUMED_LEASE_TTL_SECONDS = 90;
/** Heartbeats come every clamp(ttl/2, 1, 30) seconds. */
export function heartbeatIntervalMs(ttlSeconds: number | null): number {
  const ttl = ttlSeconds ?? ASSUMED_LEASE_TTL_SECONDS;
  return Math.min(30, Math.max(1, ttl / 2)) * 1000;
}

/** The event stream reconnects after 0.5 s, doubling up to 10 s. */
export const STREAM_RECONNECT = { baseMs: 500, capMs: 10_000 } as const;
export function reconnectDelayMs(attempt: number): number {
  return Math.min(STREAM_RECONNECT.capMs, STREAM_RECONNECT.baseMs * 2 ** Math.min(attempt, 20));
}

/** After `session.status_idle` with `end_turn`, the runner exits when nothing new came for this long. */
export const IDLE_EXIT_MS = 60_000;
/**
 * The runner stops waiting for a tool call after this: a backstop past the 120 s the sandbox's
 * toolset cuts every call at itself (the TypeScript worker's bound), for a sandbox that never answers.
 */
export const TOOL_TIMEOUT_MS = 130_000;
/** Posting a result is retried 1 s·2ⁿ up to 30 s, for one lease TTL. */
export const RESULT_RETRY = { baseMs: 1000, capMs: 30_000 } as const;
/** One POST of a result is given this long (then retried, after looking for its echo). */
export const POST_TIMEOUT_MS = 30_000;
/** `runnerEnded` is retried on this schedule until the environment takes it. */
export const REPORT_RETRY_MS = 5000;
/** Page size of the event history (the API's maximum). */
export const EVENT_PAGE_LIMIT = 1000;
/** Tool calls shown in a runner's details. */
export const TRACE_LIMIT = 500;

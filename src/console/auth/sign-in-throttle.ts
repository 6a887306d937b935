/**
 * Slows down guessing the admin token through the sign-in form: after MAX_FAILURES wrong tokens
 * from one address (CF-Connecting-IP, which Cloudflare sets and overwrites) within WINDOW_MS, that
 * address is refused, right token or not, until the window has passed. The count lives in the
 * isolate (bounded), so it is a brake, not a wall: the real defence is the token's length (use a
 * long random one; every comparison is constant-time either way).
 */
export const MAX_FAILURES = 10;
export const WINDOW_MS = 5 * 60 * 1000;
const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  since: number;
}

const failures = new Map<string, Failures>();

export function clientAddress(headers: Headers): string {
  return headers.get("cf-connecting-ip")?.trim() || "unknown";
}

/** Milliseconds until `address` may try again, or 0 when it may now. */
export function signInBlockedFor(address: string, now = Date.now()): number {
  const entry = failures.get(address);
  if (!entry) return 0;
  if (now - entry.since >= WINDOW_MS) {
    failures.delete(address);
    return 0;
  }
  return entry.count >= MAX_FAILURES ? entry.since + WINDOW_MS - now : 0;
}

export function recordSignInFailure(address: string, now = Date.now()): void {
  const entry = failures.get(address);
  if (entry && now - entry.since < WINDOW_MS) {
    entry.count++;
    return;
  }
  if (failures.size >= MAX_ADDRESSES) failures.delete(failures.keys().next().value as string);
  failures.set(address, { count: 1, since: now });
}

export function recordSignInSuccess(address: string): void {
  failures.delete(address);
}

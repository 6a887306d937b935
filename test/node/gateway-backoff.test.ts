import { expect, test } from "vitest";
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from "../../src/retry/backoff.ts";

test("the ceiling doubles from the base and stops at the cap", () => {
  const ceilings = Array.from({ length: 10 }, (_, attempt) => backoffCeiling(attempt));
  expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  expect(backoffCeiling(10_000)).toBe(DEFAULT_BACKOFF.capMs);
});

test("full jitter: every delay lies in [0, ceiling), both ends reachable", () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = backoffCeiling(attempt);
    expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.999_999)).toBe(ceiling - 1);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(attempt);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
  }
});

test("jitter spreads retries out instead of synchronising them", () => {
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6)));
  expect(delays.size).toBeGreaterThan(40);
});

/**
 * An environment's poll timings (protocol §8) and the redaction of API failures, as pure functions:
 * the random part is injected, so each bound is checked at both of its ends.
 */
import { describe, expect, test } from "vitest";
import {
  CREDENTIALS_REFUSED_MS,
  nextPollDelay,
  SAFETY_POLL_MS,
} from "../../durable-objects/managed-environment/poll-schedule.ts";
import { describeFailure, redact } from "../../durable-objects/managed-environment/work-poll.ts";
import { ApiError } from "../../src/managed-agents/api-client.ts";

const low = () => 0;
const high = () => 0.999999;

describe("next poll delay", () => {
  test("claimed work: at once, in either mode", () => {
    expect(nextPollDelay("poll", { kind: "claimed" })).toBe(0);
    expect(nextPollDelay("webhook", { kind: "claimed" })).toBe(0);
  });

  test("an empty poll: U(1,3) s in poll mode; the slow safety poll in webhook mode", () => {
    expect(nextPollDelay("poll", { kind: "empty" }, low)).toBe(1000);
    expect(nextPollDelay("poll", { kind: "empty" }, high)).toBe(2999);
    expect(nextPollDelay("webhook", { kind: "empty" }, low)).toBe(SAFETY_POLL_MS);
  });

  test("errors: 1 s·2ⁿ capped at 60 s, with at most 25 % taken off", () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 12].map((n) =>
      nextPollDelay("poll", { kind: "error", consecutiveErrors: n }, low),
    );
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(nextPollDelay("poll", { kind: "error", consecutiveErrors: 1 }, high)).toBe(750);
    expect(nextPollDelay("poll", { kind: "error", consecutiveErrors: 40 }, high)).toBe(45_000);
  });

  test("errors never retry sooner than the answer's Retry-After (capped at 60 s)", () => {
    expect(nextPollDelay("poll", { kind: "error", consecutiveErrors: 1, retryAfterMs: 5000 }, high)).toBe(5000);
    expect(nextPollDelay("poll", { kind: "error", consecutiveErrors: 6, retryAfterMs: 5000 }, low)).toBe(32_000);
    expect(nextPollDelay("poll", { kind: "error", consecutiveErrors: 1, retryAfterMs: 600_000 }, low)).toBe(60_000);
  });

  test("refused credentials: a minute, never faster, whatever the mode", () => {
    expect(nextPollDelay("poll", { kind: "credentials_refused" }, high)).toBe(CREDENTIALS_REFUSED_MS);
    expect(nextPollDelay("webhook", { kind: "credentials_refused" }, low)).toBe(60_000);
  });
});

describe("API failures as operators see them", () => {
  const key = "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz";
  test("status, type and message, without the key or any 8-character prefix of it", () => {
    const error = new ApiError(401, "authentication_error", `bad key ${key} (${key.slice(0, 17)}…)`, "/v1/x");
    const text = describeFailure(error, [key, null]);
    expect(text).toBe("401 authentication_error: bad key [redacted] ([redacted]…)");
  });

  test("other errors keep their name and message; text without secrets is unchanged", () => {
    expect(describeFailure(new TypeError("fetch failed"), [key])).toBe("TypeError: fetch failed");
    expect(redact("nothing secret here", [key, null])).toBe("nothing secret here");
  });
});

/**
 * The one copy of what both ends of the tunnel agree on about HTTP and WebSocket framing:
 * hop-by-hop headers, null-body statuses and close-reason truncation.
 */
import { describe, expect, test } from "vitest";
import { HOP_BY_HOP_HEADERS, hopByHop, isNullBodyStatus } from "../../src/http/hop-by-hop.ts";
import { MAX_CLOSE_REASON_BYTES, truncateCloseReason } from "../../src/protocol/close-reason.ts";

const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;

describe("hop-by-hop headers", () => {
  test("the standard list, proxy credentials included", () => {
    expect([...HOP_BY_HOP_HEADERS].sort()).toEqual([
      "connection",
      "keep-alive",
      "proxy-authenticate",
      "proxy-authorization",
      "proxy-connection",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
    ]);
  });

  test("headers a Connection header lists stop too, whatever their case and spacing", () => {
    const drop = hopByHop(" X-Private ,,keep-alive, X-Other");
    for (const name of ["x-private", "x-other", "keep-alive", "connection", "te", "proxy-authorization"]) {
      expect(drop(name), name).toBe(true);
    }
    for (const name of ["content-type", "content-length", "mcp-session-id", "authorization", "x-public"]) {
      expect(drop(name), name).toBe(false);
    }
    expect(hopByHop(null)("x-private")).toBe(false);
  });
});

test("null-body statuses are the Fetch standard's", () => {
  const nullBody = [100, 101, 103, 200, 204, 205, 206, 299, 304, 400, 500].filter(isNullBodyStatus);
  expect(nullBody).toEqual([101, 103, 204, 205, 304]);
});

describe("close reasons", () => {
  test("a reason that fits is kept as it is, up to exactly 123 bytes", () => {
    expect(truncateCloseReason("")).toBe("");
    expect(truncateCloseReason("token revoked")).toBe("token revoked");
    const exact = "x".repeat(MAX_CLOSE_REASON_BYTES);
    expect(truncateCloseReason(exact)).toBe(exact);
  });

  test("a longer one is cut to at most 123 bytes and marked", () => {
    const cut = truncateCloseReason("y".repeat(500));
    expect(cut).toBe(`${"y".repeat(120)}...`);
    expect(utf8(cut)).toBe(MAX_CLOSE_REASON_BYTES);
  });

  test("never inside a multi-byte character or a surrogate pair", () => {
    for (const unit of ["é", "€", "😀"]) {
      for (let pad = 0; pad < 4; pad++) {
        const reason = "a".repeat(pad) + unit.repeat(100);
        const cut = truncateCloseReason(reason);
        expect(utf8(cut), `${unit} pad ${pad}`).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
        expect(cut.endsWith("...")).toBe(true);
        const kept = cut.slice(0, -3);
        expect(reason.startsWith(kept)).toBe(true);
        expect(kept).not.toMatch(/\uFFFD/);
        // Cut as late as possible: one more character would not fit.
        const next = reason.slice(kept.length).codePointAt(0) as number;
        expect(utf8(kept) + utf8(String.fromCodePoint(next)) + 3).toBeGreaterThan(MAX_CLOSE_REASON_BYTES);
      }
    }
  });
});

import { describe, expect, test } from "vitest";
import { discardBody } from "../../src/http/discard-body.ts";

/** A body of `chunks` pieces of `size` bytes that records how many were pulled and whether it was cancelled. */
function countedBody(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(size));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { body, seen };
}

describe("dropping a refused body", () => {
  test("a body within the limit is read to its end, not cancelled", async () => {
    const { body, seen } = countedBody(8, 1024);
    await discardBody(body, 16 * 1024);
    expect(seen).toEqual({ pulled: 8, cancelled: false });
  });

  test("past the limit it stops reading and cancels the rest", async () => {
    const { body, seen } = countedBody(1000, 1024);
    await discardBody(body, 4 * 1024);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(10);
  });

  test("a body that errors while being dropped does not throw", async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    await expect(discardBody(body, 1024)).resolves.toBeUndefined();
  });
});

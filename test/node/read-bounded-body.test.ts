import { describe, expect, test } from "vitest";
import { readBoundedBody, readJsonBody } from "../../src/http/read-bounded-body.ts";

const TARGET = "http://edge.test/x";

/** A request whose body arrives in `chunks` pieces of `size` bytes, with no Content-Length. */
function streamed(chunks: number, size: number): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < chunks; i++) controller.enqueue(new Uint8Array(size).fill(97));
      controller.close();
    },
  });
  return new Request(TARGET, { method: "POST", body, duplex: "half" } as RequestInit);
}

describe("bounded body reading", () => {
  test("a body up to the limit is read whole; no body is null", async () => {
    expect((await readBoundedBody(streamed(4, 256), 1024, "body"))?.byteLength).toBe(1024);
    expect(await readBoundedBody(new Request(TARGET), 1024, "body")).toBeNull();
  });

  test("past the limit, declared or only observed while reading: 413 naming the limit", async () => {
    const declared = new Request(TARGET, { method: "POST", body: "x".repeat(2048) });
    await expect(readBoundedBody(declared, 1024, "request body")).rejects.toMatchObject({
      status: 413,
      message: "request body is larger than the limit of 1 KiB",
    });
    await expect(readBoundedBody(streamed(3, 1024 * 1024), 2 * 1024 * 1024, "upload")).rejects.toMatchObject({
      code: "payload_too_large",
      message: "upload is larger than the limit of 2 MiB",
    });
  });

  test("JSON bodies: parsed, {} when empty, 400 when not JSON, 413 past the limit", async () => {
    const post = (body: string) => new Request(TARGET, { method: "POST", body });
    expect(await readJsonBody(post('{"a":1}'), 100, "settings")).toEqual({ a: 1 });
    expect(await readJsonBody(post("  "), 100, "settings")).toEqual({});
    expect(await readJsonBody(new Request(TARGET), 100, "settings")).toEqual({});
    await expect(readJsonBody(post("{nope"), 100, "settings")).rejects.toMatchObject({
      status: 400,
      message: "settings is not valid JSON",
    });
    await expect(readJsonBody(post("x".repeat(101)), 100, "settings")).rejects.toMatchObject({
      status: 413,
      message: "settings is larger than the limit of 100 bytes",
    });
  });
});

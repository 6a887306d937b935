import { unpackTar } from "modern-tar";
import { beforeAll, describe, expect, test } from "vitest";
import { ADMIN, type Created, call, createSandbox, textOf, warmUp } from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

function put(sandbox: Created, path: string, body: BodyInit, headers: HeadersInit = {}): Promise<Response> {
  return call(`/v1/sandboxes/${sandbox.id}/files/${path}`, sandbox.token, { method: "PUT", body, headers });
}

function get(sandbox: Created, path: string): Promise<Response> {
  return call(`/v1/sandboxes/${sandbox.id}/files/${path}`, sandbox.token);
}

async function usage(sandbox: Created): Promise<{ size_bytes: number; file_count: number }> {
  return (await (await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).json()) as {
    size_bytes: number;
    file_count: number;
  };
}

describe("staging files", () => {
  test("PUT creates (201, parents made), PUT again replaces (200), GET streams it back, DELETE removes", async () => {
    const sandbox = await createSandbox();
    const first = await put(sandbox, "workspace/deep/dir/a.txt", "hello");
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ path: "/workspace/deep/dir/a.txt", bytes: 5, created: true });
    const second = await put(sandbox, "workspace/deep/dir/a.txt", "hello, again");
    expect(second.status).toBe(200);
    const read = await get(sandbox, "workspace/deep/dir/a.txt");
    expect(read.headers.get("content-length")).toBe("12");
    expect(await textOf(read)).toBe("hello, again");
    expect(
      (await call(`/v1/sandboxes/${sandbox.id}/files/workspace/deep/dir/a.txt`, sandbox.token, { method: "DELETE" }))
        .status,
    ).toBe(204);
    expect((await get(sandbox, "workspace/deep/dir/a.txt")).status).toBe(404);
  });

  test("binary content round-trips byte for byte across chunk rows", async () => {
    const sandbox = await createSandbox();
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    expect((await put(sandbox, "workspace/blob.bin", bytes)).status).toBe(201);
    const back = new Uint8Array(await (await get(sandbox, "workspace/blob.bin")).arrayBuffer());
    expect(back.length).toBe(bytes.length);
    expect(back.every((b, i) => b === bytes[i])).toBe(true);
  });

  test("paths are percent-decoded and `..` cannot leave the sandbox", async () => {
    const sandbox = await createSandbox();
    expect((await put(sandbox, "workspace/with%20space.txt", "s")).status).toBe(201);
    expect(await textOf(await get(sandbox, "workspace/with space.txt"))).toBe("s");
    // Normalised inside the sandbox's own root: /workspace/../../../etc/x is /etc/x. (Dot segments
    // in a URL are resolved by the URL parser; encoded slashes reach the sandbox as written.)
    const escaped = await put(sandbox, "workspace/..%2F..%2F..%2Fetc%2Fx", "inside");
    expect(((await escaped.json()) as { path: string }).path).toBe("/etc/x");
    expect(await textOf(await get(sandbox, "etc/x"))).toBe("inside");
  });

  test("reading a directory or a missing file is a clear error", async () => {
    const sandbox = await createSandbox();
    const dir = await get(sandbox, "workspace");
    expect(dir.status).toBe(400);
    expect(((await dir.json()) as { error: { message: string } }).error.message).toContain("directory");
    const missing = await get(sandbox, "workspace/none.txt");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("ENOENT");
  });

  test("a body growing past the quota while it streams is 507, and nothing partial is left", async () => {
    const sandbox = await createSandbox({ quota_bytes: 4 * 1024 * 1024 });
    expect((await put(sandbox, "workspace/keep.txt", "old content")).status).toBe(201);
    const before = await usage(sandbox);
    let sent = 0;
    const chunk = new Uint8Array(512 * 1024).fill(1);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    for (const path of ["workspace/keep.txt", "workspace/new.bin"]) {
      const res = await put(sandbox, path, path.endsWith("keep.txt") ? body : new Uint8Array(5 * 1024 * 1024));
      expect(res.status).toBe(507);
      const error = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe("quota_exceeded");
      expect(error.message).toMatch(/quota exceeded \(4 MiB/);
    }
    expect(await textOf(await get(sandbox, "workspace/keep.txt"))).toBe("old content");
    expect((await get(sandbox, "workspace/new.bin")).status).toBe(404);
    expect(await usage(sandbox)).toMatchObject(before);
  });

  test("the default quota is 256 MiB: a declared length past it is refused before a byte is read", async () => {
    const sandbox = await createSandbox();
    expect(
      (await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token).then((r) => r.json())) as { quota_bytes: number },
    ).toMatchObject({
      quota_bytes: 256 * 1024 * 1024,
    });
    const size = 300 * 1024 * 1024;
    const { readable, writable } = new FixedLengthStream(size);
    void writable
      .getWriter()
      .write(new Uint8Array(1024))
      .catch(() => {});
    const res = await put(sandbox, "workspace/huge.bin", readable, { "content-length": String(size) });
    expect(res.status).toBe(507);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("256 MiB");
    expect((await get(sandbox, "workspace/huge.bin")).status).toBe(404);
  });
});

describe("tar export", () => {
  test("export.tar holds every file, directory and symlink, parsed back with modern-tar", async () => {
    const sandbox = await createSandbox({ files: { "a.txt": "A", "src/b.js": "console.log(1)" } });
    await put(sandbox, "workspace/data/big.bin", new Uint8Array(2 * 1024 * 1024 + 3).fill(9));
    const res = await call(`/v1/sandboxes/${sandbox.id}/export.tar`, sandbox.token);
    expect(res.headers.get("content-type")).toBe("application/x-tar");
    const entries = await unpackTar(await res.arrayBuffer(), { strict: true });
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    expect(new TextDecoder().decode(byName.get("workspace/a.txt")?.data)).toBe("A");
    expect(new TextDecoder().decode(byName.get("workspace/src/b.js")?.data)).toBe("console.log(1)");
    expect(byName.get("workspace/data/big.bin")?.data?.length).toBe(2 * 1024 * 1024 + 3);
    expect(byName.get("workspace/src/")?.header.type).toBe("directory");
    expect(byName.get("tmp/")?.header.type).toBe("directory");
  });

  test("the admin token may export too; a missing sandbox is 404", async () => {
    const sandbox = await createSandbox({ files: { "a.txt": "A" } });
    expect((await call(`/v1/sandboxes/${sandbox.id}/export.tar`, ADMIN)).status).toBe(200);
    expect((await call("/v1/sandboxes/nobody-here/export.tar", ADMIN)).status).toBe(404);
  });
});

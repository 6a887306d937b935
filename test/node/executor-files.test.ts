import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { unpackTar } from "modern-tar";
import { afterEach, describe, expect, it } from "vitest";
import { SCRATCH_DIR } from "../../src/gateway/executor/executor.ts";
import { type ExecutorErrorBody, type ExecutorPutResult, executorPaths } from "../../src/protocol/executor-api.ts";
import { executorHarness, type Harness } from "../helpers/executor-harness.ts";

const harnesses: Harness[] = [];
async function harness(dir?: string): Promise<Harness> {
  const h = await executorHarness({}, dir);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.cleanup();
});

const file = (path: string) => executorPaths.file("sb1", path);

async function errorOf(res: Response): Promise<ExecutorErrorBody["error"]> {
  return ((await res.json()) as ExecutorErrorBody).error;
}

describe("executor files", () => {
  it("puts, gets and deletes files with the edge's semantics", async () => {
    const h = await harness();
    const put = await h.call("PUT", file("/workspace/dir/a.sh"), {
      body: "#!/bin/sh\necho hi\n",
      headers: { "tether-file-mode": "755" },
    });
    expect(put.status).toBe(200);
    expect((await put.json()) as ExecutorPutResult).toEqual({ path: "/workspace/dir/a.sh", bytes: 18, created: true });
    expect((await fsp.stat(`${h.dir}/sb1/dir/a.sh`)).mode & 0o777).toBe(0o755);
    const again = (await (
      await h.call("PUT", file("/workspace/dir/a.sh"), { body: "v2" })
    ).json()) as ExecutorPutResult;
    expect(again).toEqual({ path: "/workspace/dir/a.sh", bytes: 2, created: false });
    expect((await fsp.stat(`${h.dir}/sb1/dir/a.sh`)).mode & 0o777).toBe(0o755); // kept when not given
    const get = await h.call("GET", file("/workspace/dir/a.sh"));
    expect(get.headers.get("content-length")).toBe("2");
    expect(await get.text()).toBe("v2");
    const spaced = await h.call("PUT", file("/workspace/with space/ü.txt"), { body: "u" });
    expect(((await spaced.json()) as ExecutorPutResult).path).toBe("/workspace/with space/ü.txt");
    expect(await fsp.readFile(`${h.dir}/sb1/with space/ü.txt`, "utf8")).toBe("u");

    await fsp.symlink("dir/a.sh", `${h.dir}/sb1/link`);
    expect((await h.call("DELETE", file("/workspace/link"))).status).toBe(204);
    expect(await fsp.readFile(`${h.dir}/sb1/dir/a.sh`, "utf8")).toBe("v2"); // the link went, not its target
    expect((await h.call("DELETE", file("/workspace/dir"))).status).toBe(204);
    await expect(fsp.stat(`${h.dir}/sb1/dir`)).rejects.toThrow(/ENOENT/);
    expect((await fsp.readdir(`${h.dir}/${SCRATCH_DIR}`)).length).toBe(0);
  });

  it("refuses clearly: missing 404, directory 400, outside the workspace 400, bad mode 400", async () => {
    const h = await harness();
    const missing = await h.call("GET", file("/workspace/nope.txt"));
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({
      code: "not_found",
      message: "ENOENT: no such file or directory, open '/workspace/nope.txt'",
    });
    expect((await h.call("DELETE", file("/workspace/nope.txt"))).status).toBe(404);
    await h.call("PUT", file("/workspace/d/f"), { body: "x" });
    const dir = await h.call("GET", file("/workspace/d"));
    expect(dir.status).toBe(400);
    expect((await errorOf(dir)).message).toBe("/workspace/d is a directory, not a file");
    expect((await h.call("PUT", file("/workspace/d"), { body: "x" })).status).toBe(400);
    for (const path of ["/etc/passwd", "/tmp/x", "/workspace/../etc/passwd"]) {
      const put = await h.call("PUT", file(path), { body: "pwned" });
      expect(put.status, path).toBe(400);
      expect((await errorOf(put)).message).toContain("outside the sandbox's workspace");
      expect((await h.call("GET", file(path))).status).toBe(400);
    }
    await fsp.symlink("/etc", `${h.dir}/sb1/etc`);
    expect((await h.call("GET", file("/workspace/etc/passwd"))).status).toBe(400);
    expect((await h.call("PUT", file("/workspace/etc/pwned"), { body: "x" })).status).toBe(400);
    await expect(fsp.stat("/etc/pwned")).rejects.toThrow();
    const mode = await h.call("PUT", file("/workspace/m"), { body: "x", headers: { "tether-file-mode": "rwx" } });
    expect(mode.status).toBe(400);
    expect((await errorOf(mode)).message).toContain("tether-file-mode must be octal");
    expect((await fsp.readdir(`${h.dir}/${SCRATCH_DIR}`)).length).toBe(0);
  });

  it("refuses a FIFO at once instead of waiting for a writer", async () => {
    const h = await harness();
    await h.call("PUT", file("/workspace/x"), { body: "x" });
    execFileSync("mkfifo", [`${h.dir}/sb1/pipe`]);
    const get = await h.call("GET", file("/workspace/pipe"));
    expect(get.status).toBe(400);
    expect((await errorOf(get)).message).toBe("/workspace/pipe is not a regular file");
    const read = await h.tool("sb1", "read", { file_path: "pipe" });
    expect(read.at(-1)).toMatchObject({ type: "outcome", outcome: { isError: true } });
  });

  it("an upload that fails midway leaves the previous file intact and no temporary file", async () => {
    const h = await harness();
    await h.call("PUT", file("/workspace/keep.txt"), { body: "previous" });
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 4) controller.enqueue(new Uint8Array(64 * 1024).fill(1));
        else controller.error(new Error("the connection dropped"));
      },
    });
    const res = await h.call("PUT", file("/workspace/keep.txt"), { body: failing });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe("the upload stopped before its end: the connection dropped");
    expect(await fsp.readFile(`${h.dir}/sb1/keep.txt`, "utf8")).toBe("previous");
    expect(await fsp.readdir(`${h.dir}/${SCRATCH_DIR}`)).toEqual([]);
  });

  it("exports the workspace as a tar, files, directories and links", async () => {
    const h = await harness();
    await h.call("PUT", file("/workspace/a.txt"), { body: "A" });
    await h.call("PUT", file("/workspace/src/b.js"), { body: "console.log(1)" });
    await h.call("PUT", file("/workspace/data/big.bin"), { body: new Uint8Array(2 * 1024 * 1024 + 3).fill(9) });
    await fsp.symlink("a.txt", `${h.dir}/sb1/link`);
    const res = await h.call("GET", executorPaths.export("sb1"));
    expect(res.headers.get("content-type")).toBe("application/x-tar");
    const entries = await unpackTar(await res.arrayBuffer(), { strict: true });
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    expect(new TextDecoder().decode(byName.get("workspace/a.txt")?.data)).toBe("A");
    expect(new TextDecoder().decode(byName.get("workspace/src/b.js")?.data)).toBe("console.log(1)");
    expect(byName.get("workspace/data/big.bin")?.data?.length).toBe(2 * 1024 * 1024 + 3);
    expect(byName.get("workspace/src/")?.header.type).toBe("directory");
    expect(byName.get("workspace/link")?.header).toMatchObject({ type: "symlink", linkname: "a.txt" });
  });

  it("streams a 200 MiB upload and download byte-identical, with memory far below the size", async () => {
    const h = await harness();
    const size = 200 * 1024 * 1024;
    const chunk = 256 * 1024;
    const sentHash = createHash("sha256");
    let produced = 0;
    let peak = process.memoryUsage().rss;
    const baseline = peak;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= size) return controller.close();
        const bytes = new Uint8Array(chunk);
        for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (produced / chunk + i) & 0xff;
        bytes[bytes.length - 1] = produced & 0xff;
        produced += chunk;
        sentHash.update(bytes);
        sample();
        controller.enqueue(bytes);
      },
    });
    const put = await h.call("PUT", file("/workspace/big.bin"), { body });
    expect(((await put.json()) as ExecutorPutResult).bytes).toBe(size);
    const get = await h.call("GET", file("/workspace/big.bin"));
    expect(get.headers.get("content-length")).toBe(String(size));
    const gotHash = createHash("sha256");
    let received = 0;
    for await (const part of get.body as unknown as AsyncIterable<Uint8Array>) {
      gotHash.update(part);
      received += part.byteLength;
      sample();
    }
    expect(received).toBe(size);
    expect(gotHash.digest("hex")).toBe(sentHash.digest("hex"));
    expect(peak - baseline).toBeLessThan(80 * 1024 * 1024);
  });
});

describe("executor files on a full disk (a real 4 MiB tmpfs)", () => {
  it("answers 507, keeps the previous file, and leaves no temporary file", async () => {
    const mount = await fsp.mkdtemp(`${tmpdir()}/tether-tmpfs-`);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount]);
    try {
      const h = await harness(mount);
      const previous = new Uint8Array(1024 * 1024).fill(7);
      expect((await h.call("PUT", file("/workspace/data.bin"), { body: previous })).status).toBe(200);
      const res = await h.call("PUT", file("/workspace/data.bin"), { body: new Uint8Array(6 * 1024 * 1024).fill(8) });
      expect(res.status).toBe(507);
      expect(await errorOf(res)).toEqual({
        code: "quota_exceeded",
        message: "no space left on the executor's disk while writing /workspace/data.bin",
      });
      expect(Buffer.from(previous).equals(await fsp.readFile(`${mount}/sb1/data.bin`))).toBe(true);
      expect(await fsp.readdir(`${mount}/${SCRATCH_DIR}`)).toEqual([]);
      // The write tool on a full disk says so too, and also leaves the previous content.
      const tool = await h.tool("sb1", "write", { file_path: "data.bin", content: "x".repeat(4 * 1024 * 1024) });
      expect(tool.at(-1)).toMatchObject({ type: "outcome", outcome: { isError: true } });
      expect(JSON.stringify(tool)).toContain("ENOSPC: no space left on device");
      expect(Buffer.from(previous).equals(await fsp.readFile(`${mount}/sb1/data.bin`))).toBe(true);
      expect(await fsp.readdir(`${mount}/sb1`)).toEqual(["data.bin"]);
      await h.cleanup();
      harnesses.length = 0;
    } finally {
      execFileSync("umount", [mount]);
      await fsp.rm(mount, { recursive: true, force: true });
    }
  });
});

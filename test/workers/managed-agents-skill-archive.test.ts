import { describe, expect, test } from "vitest";
import { DEFAULT_ARCHIVE_LIMITS } from "../../src/managed-agents/skills/archive-members.ts";
import { extractArchive } from "../../src/managed-agents/skills/extract-archive.ts";
import { buildTar, gzip } from "../stand-ins/tar.ts";
import { buildZip, concat } from "../stand-ins/zip.ts";

// Skill archives are extracted inside the session runner's Durable Object: the same readers run
// here in workerd (DecompressionStream "deflate-raw"/"gzip", modern-tar's decoder), on archives
// built by the same helpers as the Node tests, including a bomb deflated here by CompressionStream.

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const MiB = 1024 * 1024;

/** `size` zeros raw-deflated by workerd's CompressionStream, fed 1 MiB at a time. */
async function deflatedZeros(size: number): Promise<Uint8Array> {
  let left = size;
  const zeros = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      if (left <= 0) return controller.close();
      const piece = Math.min(left, MiB);
      left -= piece;
      controller.enqueue(new Uint8Array(piece));
    },
  });
  const parts: Uint8Array[] = [];
  for await (const part of zeros.pipeThrough(new CompressionStream("deflate-raw"))) parts.push(part);
  return concat(parts);
}

describe("skill archives in workerd", () => {
  test("a deflated zip with a wrapper and an executable member", async () => {
    const files = await extractArchive(
      buildZip([
        { name: "w/SKILL.md", data: "hello ".repeat(1000), compress: true },
        { name: "w/run.sh", data: "#!/bin/sh\n", mode: 0o100755, compress: true },
      ]),
      DEFAULT_ARCHIVE_LIMITS,
    );
    expect(files.map((f) => [f.path, f.bytes.byteLength, f.executable])).toEqual([
      ["SKILL.md", 6000, false],
      ["run.sh", 10, true],
    ]);
  });

  test("a gzip-compressed tar", async () => {
    const files = await extractArchive(
      gzip(
        buildTar([
          { name: "w/SKILL.md", data: "tar" },
          { name: "w/bin", data: "x", mode: 0o755 },
        ]),
      ),
      DEFAULT_ARCHIVE_LIMITS,
    );
    expect(files.map((f) => [f.path, text(f.bytes), f.executable])).toEqual([
      ["SKILL.md", "tar", false],
      ["bin", "x", true],
    ]);
  });

  test("a zip bomb stops at the per-file limit", async () => {
    const size = 64 * MiB;
    const bytes = await deflatedZeros(size);
    const archive = buildZip([{ name: "b/zeros", data: "", deflated: { bytes, size, crc: 0 } }]);
    await expect(extractArchive(archive, DEFAULT_ARCHIVE_LIMITS)).rejects.toThrow(
      `inflates past ${DEFAULT_ARCHIVE_LIMITS.maxFileBytes} bytes`,
    );
  });
});

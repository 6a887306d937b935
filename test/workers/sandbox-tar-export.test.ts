import { unpackTar } from "modern-tar";
import { expect, test } from "vitest";
import { exportTar, type TarTree, type TarTreeEntry } from "../../src/sandbox/tar-export.ts";

const mtime = new Date("2026-01-01T00:00:00Z");

function tree(entries: TarTreeEntry[], contents: Record<string, string>): TarTree {
  return {
    async *entries() {
      yield* entries;
    },
    open: async (path) => new Blob([contents[path] ?? ""]).stream(),
  };
}

test("a file that changed size since it was listed keeps its listed size: the archive stays valid", async () => {
  const entries: TarTreeEntry[] = [
    { path: "/w", type: "directory", size: 0, mtime, mode: 0o755 },
    { path: "/w/grew.txt", type: "file", size: 3, mtime, mode: 0o644 },
    { path: "/w/shrank.txt", type: "file", size: 6, mtime, mode: 0o644 },
    { path: "/w/after.txt", type: "file", size: 5, mtime, mode: 0o600 },
  ];
  const contents = { "/w/grew.txt": "abcdef", "/w/shrank.txt": "xy", "/w/after.txt": "after" };
  const archive = await new Response(exportTar(tree(entries, contents))).arrayBuffer();
  const parsed = await unpackTar(archive, { strict: true });
  const text = (name: string) => new TextDecoder().decode(parsed.find((e) => e.header.name === name)?.data);
  expect(parsed.map((e) => e.header.name)).toEqual(["w/", "w/grew.txt", "w/shrank.txt", "w/after.txt"]);
  expect(text("w/grew.txt")).toBe("abc");
  expect(text("w/shrank.txt")).toBe("xy\0\0\0\0");
  expect(text("w/after.txt")).toBe("after");
  expect(parsed[3]!.header.mode).toBe(0o600);
});

test("a failing source ends the archive stream with the error instead of a truncated success", async () => {
  const broken: TarTree = {
    async *entries() {
      yield { path: "/a", type: "file", size: 1, mtime, mode: 0o644 };
      throw new Error("storage went away");
    },
    open: async () => new Blob(["a"]).stream(),
  };
  await expect(new Response(exportTar(broken)).arrayBuffer()).rejects.toThrow();
});

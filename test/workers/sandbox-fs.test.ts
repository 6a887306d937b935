import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { SqliteFs, type SqliteFsOptions } from "../../src/sandbox/fs/sqlite-fs.ts";

// SqliteFs semantics inside a real Durable Object's SQLite storage (any SQLite-backed class will
// do: the filesystem only needs ctx.storage). Every test gets an object of its own.
function freshStub(): DurableObjectStub {
  return env.REGISTRY.get(env.REGISTRY.idFromName(`fs-test-${crypto.randomUUID()}`));
}

function withFs<T>(run: (fs: SqliteFs) => Promise<T>, options?: SqliteFsOptions): Promise<T> {
  return runInDurableObject(freshStub(), (_instance, state) => run(new SqliteFs(state.storage, options)));
}

describe("SqliteFs basics", () => {
  test("starts with /, /workspace, /tmp and a virtual /dev", () =>
    withFs(async (fs) => {
      expect(await fs.readdir("/")).toEqual(["dev", "tmp", "workspace"]);
      expect((await fs.stat("/workspace")).isDirectory).toBe(true);
      expect(await fs.readdir("/dev")).toContain("null");
      expect(fs.usage()).toEqual({ bytes: 0, files: 0 });
    }));

  test("write, read, append, stat, exists", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/a.txt", "hello");
      await fs.appendFile("/workspace/a.txt", " world\n");
      expect(await fs.readFile("/workspace/a.txt")).toBe("hello world\n");
      expect(await fs.readFile("/workspace/a.txt", "base64")).toBe(btoa("hello world\n"));
      const stat = await fs.stat("/workspace/a.txt");
      expect(stat).toMatchObject({ isFile: true, isDirectory: false, size: 12, mode: 0o644 });
      expect(await fs.exists("/workspace/a.txt")).toBe(true);
      expect(await fs.exists("/workspace/missing")).toBe(false);
      await fs.writeFile("/workspace/bin", new Uint8Array([0, 255, 10]));
      expect([...(await fs.readFileBuffer("/workspace/bin"))]).toEqual([0, 255, 10]);
      await fs.writeFile("/workspace/hex", "00ff", "hex");
      expect([...(await fs.readFileBuffer("/workspace/hex"))]).toEqual([0, 255]);
      expect(fs.usage()).toEqual({ bytes: 12 + 3 + 2, files: 3 });
    }));

  test("errors read like just-bash's", () =>
    withFs(async (fs) => {
      await fs.mkdir("/workspace/d");
      await fs.writeFile("/workspace/f", "x");
      await expect(fs.readFile("/workspace/nope")).rejects.toThrow(
        "ENOENT: no such file or directory, open '/workspace/nope'",
      );
      await expect(fs.readFile("/workspace/d")).rejects.toThrow(
        "EISDIR: illegal operation on a directory, read '/workspace/d'",
      );
      await expect(fs.readdir("/workspace/f")).rejects.toThrow("ENOTDIR: not a directory, scandir '/workspace/f'");
      await expect(fs.mkdir("/workspace/d")).rejects.toThrow("EEXIST: directory already exists, mkdir '/workspace/d'");
      await expect(fs.mkdir("/workspace/x/y")).rejects.toThrow(
        "ENOENT: no such file or directory, mkdir '/workspace/x/y'",
      );
      await expect(fs.writeFile("/workspace/d", "x")).rejects.toThrow("EISDIR");
      await expect(fs.stat("/workspace/a\0b")).rejects.toThrow("ENOENT");
      await expect(fs.readlink("/workspace/f")).rejects.toThrow("EINVAL: invalid argument, readlink '/workspace/f'");
    }));

  test("mkdir -p, readdir with types in name order, writes create parent directories", () =>
    withFs(async (fs) => {
      await fs.mkdir("/workspace/a/b/c", { recursive: true });
      await fs.mkdir("/workspace/a/b", { recursive: true }); // existing: fine
      await fs.writeFile("/workspace/a/z.txt", "z");
      await fs.writeFile("/workspace/a/B.txt", "B");
      await fs.writeFile("/workspace/new/dir/file", "made");
      expect(await fs.readdir("/workspace/a")).toEqual(["B.txt", "b", "z.txt"]);
      expect(await fs.readdirWithFileTypes("/workspace/a")).toEqual([
        { name: "B.txt", isFile: true, isDirectory: false, isSymbolicLink: false },
        { name: "b", isFile: false, isDirectory: true, isSymbolicLink: false },
        { name: "z.txt", isFile: true, isDirectory: false, isSymbolicLink: false },
      ]);
      expect((await fs.stat("/workspace/new/dir")).isDirectory).toBe(true);
      await expect(fs.mkdir("/workspace/a/z.txt/q", { recursive: true })).rejects.toThrow("ENOTDIR");
    }));

  test("rm: files, empty and non-empty directories, force", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/d/e/f.txt", "12345");
      await fs.mkdir("/workspace/empty");
      await expect(fs.rm("/workspace/d")).rejects.toThrow("ENOTEMPTY: directory not empty, rm '/workspace/d'");
      await fs.rm("/workspace/empty");
      await fs.rm("/workspace/d", { recursive: true });
      expect(await fs.readdir("/workspace")).toEqual([]);
      await expect(fs.rm("/workspace/gone")).rejects.toThrow("ENOENT: no such file or directory, rm '/workspace/gone'");
      await fs.rm("/workspace/gone", { force: true });
      await expect(fs.rm("/", { recursive: true })).rejects.toThrow("EPERM");
      expect(fs.usage()).toEqual({ bytes: 0, files: 0 });
    }));

  test("mv renames files and whole trees without touching content", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/src/x/1.txt", "one");
      await fs.writeFile("/workspace/src/2.txt", "two");
      await fs.writeFile("/workspace/src-sibling.txt", "sib");
      await fs.mv("/workspace/src", "/workspace/dst");
      expect(await fs.exists("/workspace/src")).toBe(false);
      expect(await fs.readFile("/workspace/dst/x/1.txt")).toBe("one");
      expect(await fs.readdir("/workspace/dst")).toEqual(["2.txt", "x"]);
      expect(await fs.readFile("/workspace/src-sibling.txt")).toBe("sib");
      await fs.mv("/workspace/dst/2.txt", "/workspace/src-sibling.txt"); // replaces a file
      expect(await fs.readFile("/workspace/src-sibling.txt")).toBe("two");
      await expect(fs.mv("/workspace/dst", "/workspace/dst/x/inside")).rejects.toThrow("EINVAL");
      await fs.writeFile("/workspace/full/f", "f");
      await expect(fs.mv("/workspace/dst", "/workspace/full")).rejects.toThrow("ENOTEMPTY");
      expect(fs.usage()).toEqual({ bytes: 3 + 3 + 1, files: 3 });
    }));

  test("cp copies files and trees; copies are independent", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/t/a.txt", "a");
      await fs.writeFile("/workspace/t/sub/b.txt", "bb");
      await fs.cp("/workspace/t/a.txt", "/workspace/a-copy.txt");
      await fs.cp("/workspace/t", "/workspace/t2", { recursive: true });
      await expect(fs.cp("/workspace/t", "/workspace/t3")).rejects.toThrow("EISDIR");
      await expect(fs.cp("/workspace/t", "/workspace/t/sub/in", { recursive: true })).rejects.toThrow("EINVAL");
      await fs.writeFile("/workspace/t/sub/b.txt", "changed");
      expect(await fs.readFile("/workspace/t2/sub/b.txt")).toBe("bb");
      expect(await fs.readFile("/workspace/a-copy.txt")).toBe("a");
      expect(fs.usage()).toEqual({ bytes: 1 + 7 + 1 + 1 + 2, files: 5 });
    }));

  test("chmod, utimes, hard links (stored as copies)", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/f", "data");
      await fs.chmod("/workspace/f", 0o755);
      await fs.utimes("/workspace/f", new Date(0), new Date(1_000_000));
      expect(await fs.stat("/workspace/f")).toMatchObject({ mode: 0o755, mtime: new Date(1_000_000) });
      await fs.link("/workspace/f", "/workspace/g");
      expect(await fs.readFile("/workspace/g")).toBe("data");
      await expect(fs.link("/workspace/f", "/workspace/g")).rejects.toThrow("EEXIST");
      await expect(fs.link("/workspace", "/workspace/h")).rejects.toThrow("EPERM");
    }));

  test("/dev/null swallows writes and reads empty; /dev cannot be changed", () =>
    withFs(async (fs) => {
      await fs.writeFile("/dev/null", "discarded");
      await fs.appendFile("/dev/null", "discarded");
      expect(await fs.readFile("/dev/null")).toBe("");
      await expect(fs.rm("/dev/null")).rejects.toThrow("EPERM");
      await expect(fs.mkdir("/dev/x")).rejects.toThrow("EPERM");
      expect(fs.usage()).toEqual({ bytes: 0, files: 0 });
    }));
});

describe("SqliteFs confinement", () => {
  test("`..` never climbs above the sandbox's /", () =>
    withFs(async (fs) => {
      expect(fs.resolvePath("/workspace", "../../../../etc/passwd")).toBe("/etc/passwd");
      await fs.writeFile("/workspace/../../../etc/passwd", "sandbox's own");
      expect(await fs.readFile("/etc/passwd")).toBe("sandbox's own");
      expect(await fs.readFile("/workspace/../../../../../etc/passwd")).toBe("sandbox's own");
      expect(fs.getAllPaths()).toEqual(["/", "/etc", "/etc/passwd", "/tmp", "/workspace"]);
    }));

  test("symlinks resolve inside the sandbox: absolute targets start at its own /", () =>
    withFs(async (fs) => {
      await fs.symlink("/etc/passwd", "/workspace/pw");
      await expect(fs.readFile("/workspace/pw")).rejects.toThrow("ENOENT");
      await fs.symlink("../../../../../../etc", "/workspace/up");
      await expect(fs.readdir("/workspace/up")).rejects.toThrow("ENOENT");
      // Writing through the link lands in the sandbox's own /etc.
      await fs.mkdir("/etc");
      expect(await fs.realpath("/workspace/up")).toBe("/etc");
      await fs.writeFile("/workspace/up/passwd", "mine");
      expect(await fs.readFile("/etc/passwd")).toBe("mine");
      expect(await fs.readFile("/workspace/pw")).toBe("mine");
    }));

  test("symlink reads, writes through, lstat, readlink, dangling links, intermediate links", () =>
    withFs(async (fs) => {
      await fs.writeFile("/workspace/real.txt", "real");
      await fs.symlink("real.txt", "/workspace/link");
      await fs.writeFile("/workspace/link", "through");
      expect(await fs.readFile("/workspace/real.txt")).toBe("through");
      expect((await fs.lstat("/workspace/link")).isSymbolicLink).toBe(true);
      expect((await fs.stat("/workspace/link")).isFile).toBe(true);
      expect(await fs.readlink("/workspace/link")).toBe("real.txt");
      await fs.mkdir("/workspace/dir");
      await fs.symlink("dir", "/workspace/dirlink");
      await fs.writeFile("/workspace/dirlink/inner.txt", "inner");
      expect(await fs.readdir("/workspace/dir")).toEqual(["inner.txt"]);
      expect(await fs.realpath("/workspace/dirlink/inner.txt")).toBe("/workspace/dir/inner.txt");
      await fs.symlink("nowhere", "/workspace/dangling");
      expect(await fs.exists("/workspace/dangling")).toBe(false);
      await expect(fs.symlink("x", "/workspace/link")).rejects.toThrow(
        "EEXIST: file already exists, symlink '/workspace/link'",
      );
      await fs.rm("/workspace/link"); // removes the link, not its target
      expect(await fs.readFile("/workspace/real.txt")).toBe("through");
    }));

  test("links made, moved and removed are seen at once by the lookups that follow", () =>
    withFs(async (fs) => {
      await fs.mkdir("/workspace/dir");
      await fs.writeFile("/workspace/dir/f.txt", "f");
      expect(await fs.exists("/workspace/via/f.txt")).toBe(false); // looked up while no link exists
      await fs.symlink("dir", "/workspace/via");
      expect(await fs.readFile("/workspace/via/f.txt")).toBe("f");
      await fs.mv("/workspace/via", "/workspace/moved");
      expect(await fs.exists("/workspace/via/f.txt")).toBe(false);
      expect(await fs.readFile("/workspace/moved/f.txt")).toBe("f");
      await fs.rm("/workspace/moved");
      expect(await fs.exists("/workspace/moved/f.txt")).toBe(false);
      await fs.cp("/workspace/dir", "/workspace/copy", { recursive: true });
      await fs.symlink("../dir/f.txt", "/workspace/copy/link");
      await fs.cp("/workspace/copy", "/workspace/copy2", { recursive: true });
      expect((await fs.lstat("/workspace/copy2/link")).isSymbolicLink).toBe(true);
      expect(await fs.readFile("/workspace/copy2/link")).toBe("f");
    }));

  test("symlink loops end in ELOOP", () =>
    withFs(async (fs) => {
      await fs.symlink("b", "/workspace/a");
      await fs.symlink("a", "/workspace/b");
      await fs.symlink("self", "/workspace/self");
      await expect(fs.readFile("/workspace/a")).rejects.toThrow(
        "ELOOP: too many levels of symbolic links, open '/workspace/a'",
      );
      await expect(fs.stat("/workspace/self/x")).rejects.toThrow("ELOOP");
      await expect(fs.writeFile("/workspace/b", "x")).rejects.toThrow("ELOOP");
      expect(await fs.exists("/workspace/a")).toBe(false);
    }));
});

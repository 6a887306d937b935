import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkspaceFs } from "../../src/gateway/executor/workspace-fs.ts";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import { FakeBash } from "../helpers/tool-context.ts";

let base: string;
let root: string;
let outside: string;
let fs: WorkspaceFs;

beforeEach(async () => {
  base = await fsp.realpath(await fsp.mkdtemp(`${tmpdir()}/tether-wsfs-`));
  root = `${base}/ws`;
  outside = `${base}/outside`;
  await fsp.mkdir(root);
  await fsp.mkdir(outside);
  await fsp.writeFile(`${outside}/secret.txt`, "secret\n");
  fs = new WorkspaceFs(root);
});

afterEach(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

describe("WorkspaceFs paths", () => {
  it("maps /workspace and the real directory to the same files", async () => {
    await fs.writeFile("/workspace/a.txt", "hello");
    expect(await fsp.readFile(`${root}/a.txt`, "utf8")).toBe("hello");
    expect(await fs.readFile(`${root}/a.txt`)).toBe("hello");
    expect(await fs.readFile("/workspace/./sub/../a.txt")).toBe("hello");
    expect(await fs.realpath(`${root}/a.txt`)).toBe("/workspace/a.txt");
  });

  it("implements the rest of the interface on real files", async () => {
    await fs.mkdir("/workspace/d/e", { recursive: true });
    await fs.mkdir("/workspace/d/e", { recursive: true });
    await expect(fs.mkdir("/workspace/d")).rejects.toThrow("EEXIST: file already exists, mkdir '/workspace/d'");
    await fs.writeFile("/workspace/d/e/f.txt", "one");
    await fs.appendFile("/workspace/d/e/f.txt", "+two");
    expect(await fs.readFile("/workspace/d/e/f.txt")).toBe("one+two");
    expect(await fs.readFileBuffer("/workspace/d/e/f.txt")).toEqual(new TextEncoder().encode("one+two"));
    expect(await fs.readdir("/workspace/d")).toEqual(["e"]);
    expect(await fs.readdirWithFileTypes("/workspace/d/e")).toEqual([
      { name: "f.txt", isFile: true, isDirectory: false, isSymbolicLink: false },
    ]);
    await fs.cp("/workspace/d", "/workspace/copy", { recursive: true });
    expect(await fs.readFile("/workspace/copy/e/f.txt")).toBe("one+two");
    await fs.mv("/workspace/copy", "/workspace/moved");
    expect(await fs.exists("/workspace/copy")).toBe(false);
    expect(await fs.exists("/workspace/moved/e/f.txt")).toBe(true);
    await fs.chmod("/workspace/moved/e/f.txt", 0o600);
    expect((await fs.stat("/workspace/moved/e/f.txt")).mode).toBe(0o600);
    await fs.symlink("e/f.txt", "/workspace/moved/link");
    expect(await fs.readlink("/workspace/moved/link")).toBe("e/f.txt");
    expect((await fs.lstat("/workspace/moved/link")).isSymbolicLink).toBe(true);
    expect((await fs.stat("/workspace/moved/link")).isFile).toBe(true);
    expect(await fs.realpath("/workspace/moved/link")).toBe("/workspace/moved/e/f.txt");
    await fs.link("/workspace/moved/e/f.txt", "/workspace/hard");
    expect(await fs.readFile("/workspace/hard")).toBe("one+two");
    const when = new Date("2020-01-02T03:04:05Z");
    await fs.utimes("/workspace/hard", when, when);
    expect((await fs.stat("/workspace/hard")).mtime.getTime()).toBe(when.getTime());
    expect(await fs.readRange("/workspace/hard", 4, 3)).toEqual(new TextEncoder().encode("two"));
    expect(
      await fs.splice("/workspace/d/e/f.txt", [{ offset: 0, deleteLength: 3, insert: new TextEncoder().encode("1") }]),
    ).toBe(5);
    expect(await fs.readFile("/workspace/d/e/f.txt")).toBe("1+two");
    await expect(fs.rm("/workspace/moved")).rejects.toThrow("ENOTEMPTY");
    await fs.rm("/workspace/moved", { recursive: true });
    await fs.rm("/workspace/none", { force: true });
    expect(await fs.exists("/workspace/moved")).toBe(false);
    await expect(fs.rm("/workspace", { recursive: true })).rejects.toThrow("the workspace itself cannot be removed");
  });

  it("answers errors in the edge filesystem's form, naming the sandbox path", async () => {
    await expect(fs.readFile("/workspace/missing.txt")).rejects.toThrow(
      "ENOENT: no such file or directory, open '/workspace/missing.txt'",
    );
    await fs.mkdir("/workspace/dir");
    await expect(fs.readFile("/workspace/dir")).rejects.toThrow("EISDIR");
    await expect(fs.writeFile("/workspace/dir", "x")).rejects.toThrow("EISDIR: illegal operation on a directory");
    await expect(fs.readdir("/workspace/missing")).rejects.toThrow(
      "ENOENT: no such file or directory, scandir '/workspace/missing'",
    );
    // Node's own message would name the real path; the sandbox only ever sees its own spelling.
    await expect(fs.stat("/workspace/dir/missing")).rejects.toThrow(
      "ENOENT: no such file or directory, stat '/workspace/dir/missing'",
    );
  });
});

describe("WorkspaceFs large files", () => {
  it("reads and edits a file above 16 MiB by range, as the edge's filesystem does", async () => {
    const line = `${"x".repeat(99)}\n`;
    const lines = 180_000; // 18 MB
    await fsp.writeFile(`${root}/big.txt`, `${line.repeat(lines - 1)}the last line\n`);
    await expect(fs.readFile("/workspace/big.txt")).rejects.toThrow(/EFBIG: file too large to load whole/);
    const ctx = { fs, bash: new FakeBash() };
    const read = await callTool("read", { file_path: "big.txt", view_range: [lines, lines] }, ctx);
    expect(read.text).toBe("180000\tthe last line");
    const edit = await callTool(
      "edit",
      { file_path: "big.txt", old_string: "the last line", new_string: "edited" },
      ctx,
    );
    expect(edit.isError, edit.text).toBeUndefined();
    const size = (await fsp.stat(`${root}/big.txt`)).size;
    expect(size).toBe(line.length * (lines - 1) + "edited\n".length);
    expect(await fs.readRange("/workspace/big.txt", size - 7, 7)).toEqual(new TextEncoder().encode("edited\n"));
    // The temporary copy the edit went through is gone.
    expect(await fsp.readdir(root)).toEqual(["big.txt"]);
  });
});

describe("WorkspaceFs confinement", () => {
  it("refuses absolute paths outside the workspace and .. escapes", async () => {
    for (const path of [
      "/etc/passwd",
      `${outside}/secret.txt`,
      "/workspace/../etc/passwd",
      `${root}/../outside/secret.txt`,
    ]) {
      await expect(fs.readFile(path)).rejects.toThrow(/EPERM: operation not permitted outside the sandbox's workspace/);
      await expect(fs.writeFile(path, "pwned")).rejects.toThrow(/EPERM/);
    }
    await expect(fs.readFile("/workspacex/a")).rejects.toThrow(/EPERM/);
    expect(await fsp.readFile(`${outside}/secret.txt`, "utf8")).toBe("secret\n");
  });

  it("refuses symlinks that lead outside, for reading, writing, listing and creating below them", async () => {
    await fsp.symlink("/etc", `${root}/etc`);
    await fsp.symlink(`${outside}/secret.txt`, `${root}/secret`);
    await fsp.symlink("../outside", `${root}/up`);
    await fsp.symlink(`${outside}/new.txt`, `${root}/dangling`);
    await expect(fs.readFile("/workspace/etc/passwd")).rejects.toThrow(/EPERM/);
    await expect(fs.readdir("/workspace/etc")).rejects.toThrow(/EPERM/);
    await expect(fs.readFile("/workspace/secret")).rejects.toThrow(/EPERM/);
    await expect(fs.writeFile("/workspace/secret", "pwned")).rejects.toThrow(/EPERM/);
    await expect(fs.readFile("/workspace/up/secret.txt")).rejects.toThrow(/EPERM/);
    await expect(fs.mkdir("/workspace/up/made", { recursive: true })).rejects.toThrow(/EPERM/);
    await expect(fs.writeFile("/workspace/dangling", "pwned")).rejects.toThrow(/EPERM/);
    await expect(fs.cp("/workspace/secret", "/workspace/copy")).rejects.toThrow(/EPERM/);
    await fs.writeFile("/workspace/mine.txt", "mine");
    await expect(fs.cp("/workspace/mine.txt", "/workspace/dangling")).rejects.toThrow(/EPERM/);
    await expect(fs.cp("/workspace/mine.txt", "/workspace/secret")).rejects.toThrow(/EPERM/);
    // The link itself is inside: it can be inspected and removed, not followed.
    expect(await fs.readlink("/workspace/secret")).toBe(`${outside}/secret.txt`);
    await fs.rm("/workspace/up");
    expect(await fsp.readdir(outside)).toEqual(["secret.txt"]);
    expect(await fsp.readFile(`${outside}/secret.txt`, "utf8")).toBe("secret\n");
  });

  it("checks links when used, not once: a link swapped to point outside is refused", async () => {
    await fsp.mkdir(`${root}/real`);
    await fsp.writeFile(`${root}/real/a.txt`, "inside");
    await fsp.symlink("real", `${root}/link`);
    expect(await fs.readFile("/workspace/link/a.txt")).toBe("inside");
    await fsp.rm(`${root}/link`);
    await fsp.symlink(outside, `${root}/link`);
    await fsp.writeFile(`${outside}/a.txt`, "outside");
    await expect(fs.readFile("/workspace/link/a.txt")).rejects.toThrow(/EPERM/);
    await expect(fs.writeFile("/workspace/link/a.txt", "pwned")).rejects.toThrow(/EPERM/);
    expect(await fsp.readFile(`${outside}/a.txt`, "utf8")).toBe("outside");
  });

  it("follows links that stay inside, including through absolute /workspace targets", async () => {
    await fsp.writeFile(`${root}/t.txt`, "target");
    await fsp.symlink(`${root}/t.txt`, `${root}/abs`);
    await fsp.symlink("/workspace/t.txt", `${root}/sandboxabs`);
    expect(await fs.readFile("/workspace/abs")).toBe("target");
    expect(await fs.readFile("/workspace/sandboxabs")).toBe("target");
  });

  it("stops link loops with ELOOP", async () => {
    await fsp.symlink("b", `${root}/a`);
    await fsp.symlink("a", `${root}/b`);
    await expect(fs.readFile("/workspace/a")).rejects.toThrow(/ELOOP/);
  });

  it("the edge's file tools refuse the same escapes, and nothing outside is read or written", async () => {
    await fsp.symlink("/etc", `${root}/etc`);
    const ctx = { fs, bash: new FakeBash() };
    const results = [
      await callTool("read", { file_path: "/etc/passwd" }, ctx),
      await callTool("read", { file_path: "etc/passwd" }, ctx),
      await callTool("read", { file_path: `${outside}/secret.txt` }, ctx),
      await callTool("write", { file_path: "../outside/secret.txt", content: "pwned" }, ctx),
      await callTool("write", { file_path: "/tmp/pwned.txt", content: "pwned" }, ctx),
      await callTool("edit", { file_path: `${outside}/secret.txt`, old_string: "secret", new_string: "pwned" }, ctx),
      await callTool("glob", { pattern: "*", path: "/etc" }, ctx),
      await callTool("grep", { pattern: "root", path: "/etc/passwd" }, ctx),
      await callTool("str_replace_based_edit_tool", { command: "view", path: "/etc" }, ctx),
      await callTool("str_replace_based_edit_tool", { command: "create", path: "/etc/pwned", file_text: "x" }, ctx),
    ];
    for (const result of results) {
      expect(result.isError, result.text).toBe(true);
      expect(result.text).not.toContain("root:x:0:0");
    }
    expect(await fsp.readFile(`${outside}/secret.txt`, "utf8")).toBe("secret\n");
    expect(await fsp.readdir(outside)).toEqual(["secret.txt"]);
    await expect(fsp.stat("/tmp/pwned.txt")).rejects.toThrow();
    await expect(fsp.stat("/etc/pwned")).rejects.toThrow();
  });
});

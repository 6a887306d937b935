import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Executor, type ExecutorShell } from "../../src/gateway/executor/executor.ts";
import { ExecutorConfigSchema } from "../../src/gateway/executor/executor-config.ts";
import { PerCallBash } from "../helpers/executor-harness.ts";

let dir: string;
let opened: PerCallBash[];
let executor: Executor;

async function start(maxSessions: number, openShell?: (workspace: string) => ExecutorShell): Promise<Executor> {
  return Executor.start({
    name: "main",
    config: ExecutorConfigSchema.parse({ dir, maxSessions }),
    openShell:
      openShell ??
      ((workspace, env) => {
        const shell = new PerCallBash(workspace, env);
        opened.push(shell);
        return shell;
      }),
    log: () => {},
  });
}

beforeEach(async () => {
  dir = await fsp.mkdtemp(`${tmpdir()}/tether-xws-sb-`);
  opened = [];
});

afterEach(async () => {
  await executor?.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe("Executor sandboxes", () => {
  it("validates sandbox ids before touching the disk", async () => {
    executor = await start(2);
    for (const id of ["", ".", "..", "a/b", "a.b", "x".repeat(65), "é"]) {
      await expect(executor.sandbox(id)).rejects.toThrow(/invalid sandbox id/);
    }
    expect((await fsp.readdir(dir)).sort()).toEqual([".tether-executor.json", ".tether-tmp"]);
    expect((await executor.sandbox("A-z_09")).id).toBe("A-z_09");
  });

  it("a sandbox deleted while a call holds it opens no new shell for that call", async () => {
    executor = await start(2);
    const held = await executor.sandbox("sb1");
    await held.shell({});
    await executor.delete("sb1");
    expect(held.ended.aborted).toBe(true);
    await expect(held.shell({})).rejects.toThrow('sandbox "sb1" was deleted');
    expect(opened).toHaveLength(1);
    expect(opened[0]?.closed).toBe(true);
    expect(executor.liveShells).toBe(0);
  });

  it("a shell that fails to open holds no place under maxSessions", async () => {
    let fail = true;
    executor = await start(1, (workspace) => {
      if (fail) throw new Error("no shell today");
      const shell = new PerCallBash(workspace, {});
      opened.push(shell);
      return shell;
    });
    const sandbox = await executor.sandbox("sb1");
    await expect(sandbox.shell({})).rejects.toThrow("no shell today");
    expect(executor.liveShells).toBe(0);
    fail = false;
    await sandbox.shell({});
    expect(executor.liveShells).toBe(1);
  });

  it("refuses a workspace that is not a directory (replaced by a link) instead of following it", async () => {
    executor = await start(1);
    await fsp.symlink("/etc", `${dir}/sb1`);
    await expect(executor.sandbox("sb1")).rejects.toThrow('the workspace of sandbox "sb1" is not a directory');
  });

  it("empties the scratch area on start: an upload cut by a crash leaves nothing behind", async () => {
    executor = await start(1);
    await fsp.writeFile(`${executor.scratch}/put-leftover`, "half");
    await executor.close();
    executor = await start(1);
    expect(await fsp.readdir(executor.scratch)).toEqual([]);
  });
});

/**
 * The interleaving of two first calls of one sandbox, forced: the call that creates the workspace
 * is held in its `lstat` until the other call (which found the directory already there) has
 * registered the sandbox. Neither may take this for a workspace removed behind the executor's back.
 */
import * as realFsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterEach, expect, it, vi } from "vitest";

const gate = vi.hoisted(() => ({ path: "", held: null as Promise<void> | null, release: () => {} }));

vi.mock("node:fs/promises", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:fs/promises")>();
  let lstatCalls = 0;
  const lstat = (async (path: string, ...rest: unknown[]) => {
    if (gate.path && path === gate.path) {
      lstatCalls++;
      // The first lstat of the workspace (the creating call's) waits for the second one.
      if (lstatCalls === 1) await gate.held;
      else if (lstatCalls === 2) queueMicrotask(() => setTimeout(gate.release, 0));
    }
    return (original.lstat as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof original.lstat;
  return { ...original, lstat, default: { ...original, lstat } };
});

const { Executor } = await import("../../src/gateway/executor/executor.ts");
const { ExecutorConfigSchema } = await import("../../src/gateway/executor/executor-config.ts");

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await realFsp.rm(dir, { recursive: true, force: true });
});

it("two first calls interleaved: one state, and no removal noticed", async () => {
  const dir = await realFsp.mkdtemp(`${tmpdir()}/tether-xrace-`);
  dirs.push(dir);
  const logged: string[] = [];
  const executor = await Executor.start({
    name: "main",
    config: ExecutorConfigSchema.parse({ dir }),
    openShell: () => ({
      run: async () => ({ stdout: "", stderr: "", exitCode: 0, truncated: false }),
      close: async () => {},
    }),
    log: (event: string) => logged.push(event),
  });
  gate.path = executor.workspacePath("sb1");
  gate.held = new Promise<void>((resolve) => {
    gate.release = resolve;
  });

  const creating = executor.sandbox("sb1");
  // Let the first call's mkdir land before the second starts, so the second sees EEXIST.
  await vi.waitFor(async () => expect((await realFsp.stat(gate.path)).isDirectory()).toBe(true));
  const [first, second] = await Promise.all([creating, executor.sandbox("sb1")]);

  expect(first).toBe(second);
  expect(first.takeRecreated()).toBe(false);
  expect(logged).not.toContain("executor_workspace_recreated");
  await executor.close();
});

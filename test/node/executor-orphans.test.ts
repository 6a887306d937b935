// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${…} is expansion.
import { afterEach, describe, expect, test } from "vitest";
import { openShell, type ShellSession } from "../../src/gateway/executor/process/shell-session.ts";
import {
  type ExecutorDir,
  eventually,
  executorDir,
  freshMarker,
  killLeft,
  running,
  STRAY_SUFFIXES,
  strayCommand,
  strayPids,
} from "../helpers/executor-processes.ts";
import { NODE, type RunningProcess, spawnProcess } from "../helpers/processes.ts";

// No process the executor started outlives what ends it: a timeout, closing the sandbox, the
// gateway's SIGTERM, or a SIGKILL that leaves the gateway no chance to run code. Each command
// leaves four tagged sleeps: a background job, a nohup one, a setsid one and a double-forked
// setsid one (reparented away from the shell at once).

const HOST = new URL("../fixtures/executor-shell-host.ts", import.meta.url).pathname;

let dirs: ExecutorDir[] = [];
let shells: ShellSession[] = [];
let hosts: RunningProcess[] = [];
let strays: number[] = [];

afterEach(async () => {
  await Promise.all(shells.map((shell) => shell.close()));
  await Promise.all(hosts.map((host) => host.stop("SIGKILL")));
  killLeft(strays);
  for (const dir of dirs) dir.remove();
  dirs = [];
  shells = [];
  hosts = [];
  strays = [];
});

type Mode = "none" | "bwrap" | "uncontained";

function sandbox(mode: Mode) {
  const dir = executorDir({ isolate: mode === "bwrap" ? "bwrap" : "none" });
  dirs.push(dir);
  const workspace = dir.workspace("sb");
  const options = { workspace, config: dir.config, sandboxEnv: {}, ...(mode === "uncontained" ? { bwrap: null } : {}) };
  return { dir, workspace, options };
}

async function gone(pids: number[]): Promise<boolean> {
  // The promise is "gone within 5 s".
  return eventually(() => pids.every((pid) => !running(pid)), 5_000);
}

// Without bwrap (the fallback) there is no PID namespace: a double-forked `setsid` child is no
// longer linked to the shell once its parent exits, and is not caught (sandbox-launch.ts). The
// other three are, by the process group and the /proc walk, also after a SIGKILL (watchdog.ts).
const EXPECTED: Record<Mode, number> = { none: 4, bwrap: 4, uncontained: 3 };

for (const isolate of ["none", "bwrap", "uncontained"] as const) {
  const expected = EXPECTED[isolate];
  // strayPids lists them in STRAY_SUFFIXES order, the double-forked one last.
  const caught = (pids: number[]) => pids.slice(0, expected);
  describe(`no orphans (${isolate})`, () => {
    test("a timeout kills the command's whole tree and the next call gets a fresh shell", async () => {
      const { options } = sandbox(isolate);
      const shell = openShell(options);
      shells.push(shell);
      const marker = freshMarker();
      await shell.run({ command: "kept=1" });
      const pending = shell.run({ command: `${strayCommand(marker)}; sleep 1000`, timeout_ms: 3_000 });
      strays = await strayPids(marker);
      expect(strays).toHaveLength(STRAY_SUFFIXES.length);
      const result = await pending;
      expect(result.failure?.kind).toBe("timeout");
      expect(result.stdout).toBe("started\n");
      expect(await gone(caught(strays))).toBe(true);
      const after = await shell.run({ command: 'echo "kept=${kept:-gone}"' });
      expect(after.stdout).toBe("kept=gone\n");
    });

    test("closing the sandbox kills its shell and everything it left running", async () => {
      const { options } = sandbox(isolate);
      const shell = openShell(options);
      shells.push(shell);
      const marker = freshMarker();
      expect((await shell.run({ command: strayCommand(marker) })).stdout).toBe("started\n");
      strays = await strayPids(marker);
      expect(strays).toHaveLength(STRAY_SUFFIXES.length);
      await shell.close();
      expect(await gone(caught(strays))).toBe(true);
      await expect(shell.run({ command: "echo again" })).rejects.toThrow(/closed/);
    });

    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      test(`the host process's ${signal} leaves nothing running`, async () => {
        const { dir, workspace } = sandbox(isolate);
        const marker = freshMarker();
        const host = spawnProcess("shell host", NODE, [HOST, dir.dir, workspace, isolate, strayCommand(marker)]);
        hosts.push(host);
        await host.waitFor(/^ready/);
        expect(host.output()).toContain("ran: started (exit 0)");
        strays = await strayPids(marker);
        expect(strays).toHaveLength(STRAY_SUFFIXES.length);
        process.kill(host.pid, signal);
        await host.exited;
        expect(await gone(caught(strays))).toBe(true);
      });
    }
  });
}

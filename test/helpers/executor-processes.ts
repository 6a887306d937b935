/**
 * Sandboxes for the executor's process tests: a temporary executor directory with workspaces, the
 * config to run them with, marker-tagged processes to look for (`sleep 1000.<marker>`: found by
 * their exact argv in /proc, then watched by PID; never killed by name), and clean-up.
 */
import { randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutorConfig } from "../../src/gateway/executor/executor-config.ts";
import { isAlive } from "./stdio-fixtures.ts";

export interface ExecutorDir {
  dir: string;
  config: ExecutorConfig;
  /** Makes (and returns) the workspace of sandbox `id`. */
  workspace(id: string): string;
  remove(): void;
}

export function executorDir(overrides: Partial<ExecutorConfig> = {}): ExecutorDir {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "tether-executor-")));
  const config: ExecutorConfig = {
    dir,
    shell: "/bin/bash",
    maxSessions: 16,
    env: ["PATH", "LANG"],
    isolate: "none",
    network: "off",
    ...overrides,
  };
  return {
    dir,
    config,
    workspace(id) {
      const path = join(dir, id);
      mkdirSync(path, { recursive: true });
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh marker: `sleep 1000.<marker>1` … are argv no other process on the machine has. */
export function freshMarker(): string {
  return String(randomInt(1e8, 1e9));
}

/** Host PIDs of live processes whose argv is exactly `sleep <duration>`. */
export function sleepPids(duration: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "latin1") === `sleep\0${duration}\0`) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** Alive and not a zombie. */
export function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits until `check` holds, up to `ms`; returns whether it did. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** The three ways a command leaves a process behind, each a tagged `sleep`, plus a double fork. */
export function strayCommand(marker: string): string {
  return (
    `sleep 1000.${marker}1 & nohup sleep 1000.${marker}2 >/dev/null 2>&1 & setsid sleep 1000.${marker}3 & ` +
    `(setsid sleep 1000.${marker}4 >/dev/null 2>&1 &) ; echo started`
  );
}

export const STRAY_SUFFIXES = ["1", "2", "3", "4"];

/** Host PIDs of the strays of `marker` (waits until all four are up). */
export async function strayPids(marker: string): Promise<number[]> {
  const find = () => STRAY_SUFFIXES.flatMap((suffix) => sleepPids(`1000.${marker}${suffix}`));
  await eventually(() => find().length === STRAY_SUFFIXES.length);
  return find();
}

/** Safety net for a failed test: kill what is left of `pids` (each > 1, found by argv above). */
export function killLeft(pids: number[]): void {
  for (const pid of pids) {
    if (pid > 1 && running(pid)) process.kill(pid, "SIGKILL");
  }
}

/**
 * CPU time (user + system) of processes, read from /proc/PID/stat (Linux), to see which process a
 * load actually spends its CPU in. Resolution is one clock tick (USER_HZ, 100 on Linux: 10 ms),
 * fine for loads of hundreds of calls.
 */
import { readFileSync } from "node:fs";

const TICK_MS = 10;

/** CPU milliseconds a process has used so far (0 once it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Runs `work` and reports the CPU milliseconds each named group of processes used meanwhile. */
export async function cpuDuring<T>(
  groups: Record<string, number[]>,
  work: () => Promise<T>,
): Promise<{ value: T; cpuMs: Record<string, number> }> {
  const total = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, total(pids)]));
  const value = await work();
  const used = Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, total(pids) - (before[name] as number)]),
  );
  return { value, cpuMs: used };
}

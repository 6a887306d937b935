/**
 * Resident memory of processes on this machine, read from /proc (Linux). The edge runs in workerd,
 * a child process of the benchmark; the gateway and upstreams are children too.
 */
import { readdirSync, readFileSync } from "node:fs";

export function rssMiB(pid: number): number {
  return statusMiB(pid, "VmRSS");
}

/** The highest resident memory the process has had since it started (the kernel's own peak). */
export function hwmMiB(pid: number): number {
  return statusMiB(pid, "VmHWM");
}

/** Resident anonymous memory (heaps: the JavaScript heap, SQLite's cache), without mapped files. */
export function anonMiB(pid: number): number {
  return statusMiB(pid, "RssAnon");
}

function statusMiB(pid: number, field: "VmRSS" | "VmHWM" | "RssAnon"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** PIDs of this process's descendants whose command name matches (e.g. "workerd"). */
export function descendantsNamed(name: string, root = process.pid): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, comm]) => comm === name && isDescendant(pid)).map(([pid]) => pid);
}

/** Samples the peak RSS of some processes while `work` runs. */
export async function peakRss<T>(
  pids: number[],
  work: () => Promise<T>,
): Promise<{ value: T; peakMiB: number[]; baseMiB: number[] }> {
  const baseMiB = pids.map(rssMiB);
  const peakMiB = [...baseMiB];
  const timer = setInterval(() => {
    pids.forEach((pid, i) => {
      try {
        peakMiB[i] = Math.max(peakMiB[i] as number, rssMiB(pid));
      } catch {
        // Process gone.
      }
    });
  }, 20);
  try {
    const value = await work();
    return { value, peakMiB, baseMiB };
  } finally {
    clearInterval(timer);
  }
}

/**
 * How a measurement inside workerd hands its rows to the bench runner in Node: through the test
 * task's `meta`, which vitest carries from the pool to the runner (workerd has no file system).
 */
import type { Row } from "../lib/report.ts";

declare module "vitest" {
  interface TaskMeta {
    benchRows?: Row[];
  }
}

export interface Samples {
  p50Ms: number;
  p90Ms: number;
  n: number;
}

export function summarise(samples: number[]): Samples {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50Ms: round(at(0.5)), p90Ms: round(at(0.9)), n: sorted.length };
}

export async function timed(times: number[], work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await work();
  times.push(performance.now() - started);
}

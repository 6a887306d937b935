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
  return { p50Ms: percentile(samples, 0.5), p90Ms: percentile(samples, 0.9), n: samples.length };
}

/** The sample at fraction `p` of the sorted samples (nearest rank), rounded to 0.01 ms. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return Math.round(at * 100) / 100;
}

export async function timed(times: number[], work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await work();
  times.push(performance.now() - started);
}

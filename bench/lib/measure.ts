/**
 * Closed-loop load: `concurrency` workers each call `fn` back to back until `requests` calls in
 * total have completed or `maxMs` has passed (every run is bounded and stops by itself).
 */
export interface LoadResult {
  concurrency: number;
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  callsPerSecond: number;
  firstError?: string;
}

export async function measure(
  fn: (worker: number) => Promise<unknown>,
  options: { concurrency: number; requests: number; maxMs?: number; warmup?: number },
): Promise<LoadResult> {
  const { concurrency, requests } = options;
  const maxMs = options.maxMs ?? 20_000;
  for (let i = 0; i < (options.warmup ?? Math.min(20, requests)); i++) await fn(0).catch(() => {});

  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | undefined;
  const begin = performance.now();
  const deadline = begin + maxMs;
  const worker = async (id: number) => {
    while (started < requests && performance.now() < deadline) {
      started++;
      const t0 = performance.now();
      try {
        await fn(id);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
  const elapsed = performance.now() - begin;
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    concurrency,
    calls: latencies.length,
    errors,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    callsPerSecond: Math.round((latencies.length / elapsed) * 1000),
  };
  if (firstError) result.firstError = firstError;
  return result;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Times one async operation in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: round(performance.now() - t0), value };
}

/**
 * Load at several concurrency levels over a pool of per-client resources (one MCP session or one
 * socket per client), opened before timing starts and closed after the last level.
 */
import { type LoadResult, measure } from "./measure.ts";

export interface Level {
  concurrency: number;
  /** Calls in total at this level (bounded, as is `maxMs`). */
  requests: number;
  maxMs: number;
}

/** Clients ready to be driven at any level up to the number opened. */
export interface ClientPool {
  readonly size: number;
  /** Runs the pool's call with the level's concurrency; worker i always uses client i. */
  measure(level: Level): Promise<LoadResult>;
  close(): Promise<void>;
}

export interface PoolSpec<T> {
  open(index: number): Promise<T>;
  call(client: T): Promise<unknown>;
  close(client: T): Promise<void>;
}

/** Opens `count` clients, `batch` at a time; if one fails, closes those already open and throws. */
export async function openPool<T>(count: number, spec: PoolSpec<T>, batch = 16): Promise<ClientPool> {
  const clients: T[] = [];
  const close = async () => {
    await Promise.all(clients.splice(0).map((client) => spec.close(client).catch(() => {})));
  };
  try {
    for (let start = 0; start < count; start += batch) {
      const size = Math.min(batch, count - start);
      const opened = await Promise.allSettled(Array.from({ length: size }, (_, i) => spec.open(start + i)));
      for (const result of opened) if (result.status === "fulfilled") clients.push(result.value);
      const failed = opened.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    size: clients.length,
    measure(level) {
      if (clients.length < level.concurrency) {
        throw new Error(`${level.concurrency} clients wanted, ${clients.length} open`);
      }
      return measure((worker) => spec.call(clients[worker] as T), {
        concurrency: level.concurrency,
        requests: level.requests,
        maxMs: level.maxMs,
      });
    },
    close,
  };
}

/**
 * Latency percentiles from a histogram of whole milliseconds instead of a sorted list of every
 * call: the audit trail's SQL hands over one row per (group, duration) with its count (the
 * durations are stored rounded to the millisecond), so a window of 100,000 calls arrives as a few
 * hundred buckets and the percentiles come out exact, without sorting 100,000 numbers in the
 * object.
 *
 * Percentiles are nearest-rank: the p-th is the smallest recorded duration that at least p % of
 * the calls took no longer than (so it is always a duration some call really took).
 */
export class LatencyHistogram {
  /** Duration (ms) → number of calls that took it. */
  readonly #counts = new Map<number, number>();
  #total = 0;

  /** Records `count` calls that took `durationMs` each. */
  add(durationMs: number, count = 1): void {
    if (count <= 0) return;
    this.#counts.set(durationMs, (this.#counts.get(durationMs) ?? 0) + count);
    this.#total += count;
  }

  get total(): number {
    return this.#total;
  }

  /** The nearest-rank percentiles for each `p` in (0, 100], in the order asked; null when empty. */
  percentiles(ps: readonly number[]): Array<number | null> {
    if (this.#total === 0) return ps.map(() => null);
    const durations = [...this.#counts.keys()].sort((a, b) => a - b);
    const ranks = ps.map((p) => Math.max(1, Math.ceil((p / 100) * this.#total)));
    const result: Array<number | null> = ps.map(() => null);
    // One walk up the sorted durations answers every rank.
    const order = ranks.map((rank, index) => ({ rank, index })).sort((a, b) => a.rank - b.rank);
    let seen = 0;
    let next = 0;
    for (const duration of durations) {
      seen += this.#counts.get(duration) ?? 0;
      while (next < order.length && (order[next]?.rank ?? 0) <= seen) {
        result[order[next]?.index ?? 0] = duration;
        next++;
      }
      if (next === order.length) break;
    }
    return result;
  }
}

/**
 * Sender-side credit accounting for one stream in one direction. The receiver grants bytes as it
 * consumes them; the sender waits when the window is spent. This is the only back-pressure a
 * hibernatable WebSocket allows (no pause on read, no drain signal on send), used by both ends.
 */
export class CreditWindow {
  #available: number;
  #waiters: Array<() => void> = [];
  #closed: Error | undefined;

  constructor(initial: number) {
    this.#available = initial;
  }

  get available(): number {
    return this.#available;
  }

  grant(bytes: number): void {
    this.#available += bytes;
    this.#wake();
  }

  /** Resolves with how many bytes (1..wanted) the sender may send now; waits while none are available. */
  async take(wanted: number): Promise<number> {
    while (this.#available <= 0) {
      if (this.#closed) throw this.#closed;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#closed) throw this.#closed;
    const granted = Math.min(wanted, this.#available);
    this.#available -= granted;
    return granted;
  }

  /** Fails current and future waits (stream reset or connection lost). */
  close(reason: Error): void {
    this.#closed = reason;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

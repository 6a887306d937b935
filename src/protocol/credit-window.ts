import { CREDIT_BATCH } from "./version.ts";

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

  /** How many bytes (0..wanted) the sender may send right now, without waiting; 0 when it must wait (or closed). */
  tryTake(wanted: number): number {
    if (this.#closed || this.#available <= 0) return 0;
    const granted = Math.min(wanted, this.#available);
    this.#available -= granted;
    return granted;
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

/**
 * Receiver-side credit for one stream in one direction: counts the bytes consumed and grants them
 * back in batches of CREDIT_BATCH, so small bodies cost no Credit frame and large ones one per
 * batch. Both ends use it (the edge for response bodies, the gateway for request bodies).
 */
export class CreditGrants {
  readonly #grant: (bytes: number) => void;
  #ungranted = 0;

  /** `grant(n)` sends a Credit frame for n bytes. */
  constructor(grant: (bytes: number) => void) {
    this.#grant = grant;
  }

  /** Bytes consumed but not granted back yet (the sender's window is that much smaller). */
  get ungranted(): number {
    return this.#ungranted;
  }

  consumed(bytes: number): void {
    this.#ungranted += bytes;
    if (this.#ungranted < CREDIT_BATCH) return;
    const grant = this.#ungranted;
    this.#ungranted = 0;
    this.#grant(grant);
  }
}

/**
 * Write-behind for a Durable Object's bookkeeping that is not needed to answer a call (here: call
 * traces and sessions' last-use times; the Sandbox uses it for its own traces too). Every SQLite
 * write of a Durable Object is a transaction that must reach disk before the object's next
 * outgoing message leaves (the output gate), so one write per call would hold every response back
 * behind a flush. Instead the stores buffer those rows in memory and this class writes all of them
 * in ONE transaction, at most FLUSH_AFTER_MS after the first buffered row, or at once when a store
 * says its buffer is full.
 *
 * Trade-off (deliberate): what is buffered lives in memory only until the flush. An eviction or a
 * crash loses at most the last FLUSH_AFTER_MS of it; what must survive (tunnels, tokens, sessions
 * themselves) is written at once, as before. Views merge the buffers in, so nothing is missing
 * from them while the object lives.
 *
 * Lifecycle: a timer per pending flush (it keeps the object awake for at most FLUSH_AFTER_MS);
 * the owner also calls `flush()` from its alarm, and `discard()` when its storage is wiped.
 */

/** A store that buffers writes for the write-behind. */
export interface BufferedWrites {
  hasPending(): boolean;
  /** Writes what is buffered (inside the write-behind's transaction; the buffer stays until it committed). */
  writePending(): void;
  /** Empties the buffer: after its rows committed, or to drop them (the tunnel's storage was wiped). */
  clearPending(): void;
}

/** How long buffered rows may wait before they are written. */
export const FLUSH_AFTER_MS = 1_000;

export class WriteBehind {
  readonly #storage: DurableObjectStorage;
  readonly #stores: BufferedWrites[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  add(store: BufferedWrites): void {
    this.#stores.push(store);
  }

  /** A store buffered a row: write within FLUSH_AFTER_MS, or now when its buffer is full. */
  buffered(full = false): void {
    if (full) {
      this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, FLUSH_AFTER_MS);
  }

  /** Writes every store's buffer in one transaction. A failed write keeps the buffers for the next try. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#stores.filter((store) => store.hasPending());
    if (pending.length === 0) return;
    try {
      this.#storage.transactionSync(() => {
        for (const store of pending) store.writePending();
      });
    } catch (error) {
      // Rolled back: the buffers stay (bounded by the stores) for the next flush.
      console.error("writing buffered rows failed", error);
      return;
    }
    for (const store of pending) store.clearPending();
  }

  discard(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const store of this.#stores) store.clearPending();
  }
}

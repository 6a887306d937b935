/**
 * An unbounded push → async-iterator hand-off. Tool calls run eagerly in the sandbox's queue and push
 * their events here; the response stream pulls them at the client's pace. A slow or vanished client
 * therefore never holds the queue: what it has not read yet is buffered (bounded in practice by the
 * tools' output caps), and a client that goes away cancels the iterator, which calls `onCancel`.
 */
export class EventChannel<T> implements AsyncIterable<T> {
  readonly #buffer: T[] = [];
  #closed = false;
  #cancelled = false;
  #failure: { error: unknown } | null = null;
  #wake: (() => void) | null = null;
  /** Called once when the consumer stops before the end. */
  onCancel: (() => void) | null = null;

  push(value: T): void {
    if (this.#closed) return;
    this.#buffer.push(value);
    this.#notify();
  }

  close(): void {
    this.#closed = true;
    this.#notify();
  }

  fail(error: unknown): void {
    if (this.#closed) return;
    this.#failure = { error };
    this.close();
  }

  /** The consumer stops early: drops what is buffered, ends the iteration and calls `onCancel` once. */
  cancel(): void {
    const wasOpen = !this.#cancelled;
    this.#cancelled = true;
    this.#closed = true;
    this.#buffer.length = 0;
    this.#notify();
    if (wasOpen) this.onCancel?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    let finished = false;
    try {
      for (;;) {
        const next = this.#buffer.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#closed) {
          finished = !this.#cancelled;
          if (this.#failure && finished) throw this.#failure.error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      if (!finished) this.cancel();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

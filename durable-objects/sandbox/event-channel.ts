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

  /**
   * A hand-written iterator rather than an async generator: a generator's `return()` waits until
   * the generator reaches its next `yield`, so a consumer cancelling while no event is due (a long
   * command on a gateway's executor, silent) would not be heard until the call ended on its own.
   * Here `return()` cancels at once, and the pending `next()` ends.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    let finished = false;
    const next = async (): Promise<IteratorResult<T>> => {
      for (;;) {
        const value = this.#buffer.shift();
        if (value !== undefined) return { done: false, value };
        if (this.#closed) {
          finished = !this.#cancelled;
          if (this.#failure && finished) throw this.#failure.error;
          finished = true;
          return { done: true, value: undefined };
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    };
    const stop = async (): Promise<IteratorResult<T>> => {
      if (!finished) this.cancel();
      finished = true;
      return { done: true, value: undefined };
    };
    return { next, return: stop };
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

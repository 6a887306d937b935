/**
 * Runs jobs one at a time, in arrival order. A sandbox's tool calls need it (every caller, HTTP and
 * every MCP client, shares one shell and one filesystem, so two bash commands interleaving at their
 * await points would see each other's half-finished state), and so does each shell session. A
 * promise chain is enough: JavaScript is single-threaded, the chain only orders the asynchronous parts.
 *
 * In memory only: an evicted object has no running calls, so there is nothing to persist.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;
  #running = 0;

  /** Runs `job` once every job queued before it has finished (whether it succeeded or threw). */
  async run<T>(job: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let turnOver!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      turnOver = resolve;
    });
    this.#waiting++;
    await previous;
    this.#waiting--;
    this.#running++;
    try {
      return await job();
    } finally {
      this.#running--;
      turnOver();
    }
  }

  /** Jobs running or waiting: an idle sandbox has none. */
  get pending(): number {
    return this.#waiting + this.#running;
  }
}

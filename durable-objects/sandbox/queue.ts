/**
 * Runs a sandbox's tool calls one at a time, in arrival order. Every caller (HTTP tool-calls, every
 * MCP client) shares one shell and one filesystem, so two bash commands interleaving at their await
 * points would see each other's half-finished state (cwd, variables, files). A promise chain is
 * enough: a Durable Object is single-threaded, the chain only orders the asynchronous parts.
 *
 * In memory only: an evicted object has no running calls, so there is nothing to persist.
 */
export type Release = () => void;

export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;
  #running = 0;

  /** Resolves when it is the caller's turn; the caller must call the returned release exactly once. */
  acquire(): Promise<Release> {
    const previous = this.#tail;
    let release!: Release;
    const turnOver = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tail = previous.then(() => turnOver);
    this.#waiting++;
    return previous.then(() => {
      this.#waiting--;
      this.#running++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.#running--;
        release();
      };
    });
  }

  /** Runs `job` in its turn. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await job();
    } finally {
      release();
    }
  }

  /** Jobs running or waiting: an idle sandbox has none. */
  get pending(): number {
    return this.#waiting + this.#running;
  }
}

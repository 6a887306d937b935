/**
 * A request body arriving as DATA frames, exposed as a ReadableStream for the upstream. Credit
 * goes back to the edge only when the upstream actually takes a chunk (the stream pulls with a
 * high-water mark of 0), so a slow upstream holds the edge back instead of filling our memory:
 * at most one window of bytes is ever buffered here. Grants go in batches (CreditGrants), so a
 * small body costs no Credit frame.
 */
import { TetherError } from "../errors/tether-error.ts";
import { CreditGrants } from "../protocol/credit-window.ts";

export class IncomingBody {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #window: number;
  readonly #grants: CreditGrants;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #failed: Error | undefined;
  #cancelled = false;
  #wake: (() => void) | undefined;

  /** `grant(n)` sends credit for n bytes handed to the reader (in batches, while more could still come). */
  constructor(window: number, grant: (bytes: number) => void) {
    this.#window = window;
    this.#grants = new CreditGrants(grant);
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => {
          this.#cancelled = true;
          this.#queue = [];
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** A DATA frame. Throws if the edge sent more than the window it was granted. */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new TetherError("bad_request", "DATA after the request body's END");
    // Frames that crossed a reset, or that nobody reads any more, are dropped.
    if (this.#failed || this.#cancelled) return;
    // The edge may have in flight: the window, minus what sits here, minus what we consumed but not granted yet.
    if (this.#buffered + this.#grants.ungranted + chunk.byteLength > this.#window) {
      throw new TetherError("bad_request", "the edge sent more request body than its credit allowed");
    }
    this.#queue.push(chunk);
    this.#buffered += chunk.byteLength;
    this.#notify();
  }

  /** END: no more DATA. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** The stream was reset or the connection lost: the upstream's read fails. */
  fail(error: Error): void {
    if (this.#ended && this.#queue.length === 0) return;
    this.#failed = error;
    this.#notify();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.#queue.length === 0 && !this.#ended && !this.#failed) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#failed) {
      controller.error(this.#failed);
      return;
    }
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#buffered -= chunk.byteLength;
      controller.enqueue(chunk);
      // Once END arrived the edge has nothing left to send: credit would be a wasted frame.
      if (!this.#ended) this.#grants.consumed(chunk.byteLength);
      return;
    }
    controller.close();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

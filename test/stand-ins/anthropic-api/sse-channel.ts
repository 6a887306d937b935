/**
 * One SSE response body the stand-in writes to. Chunks wait in its own queue until the client reads
 * them, so "drop" can behave like a broken connection: everything written before the drop is still
 * delivered, then the read fails (erroring a web stream directly would discard what is queued).
 */
const encoder = new TextEncoder();

export class SseChannel {
  readonly body: ReadableStream<Uint8Array>;
  #queue: Uint8Array[] = [];
  #state: "open" | "dropped" | "ended" = "open";
  #wake: (() => void) | undefined;
  #onCancel: () => void;

  constructor(onCancel: () => void) {
    this.#onCancel = onCancel;
    this.body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.#queue.length === 0 && this.#state === "open") {
            await new Promise<void>((resolve) => {
              this.#wake = resolve;
            });
          }
          const chunk = this.#queue.shift();
          if (chunk) controller.enqueue(chunk);
          else if (this.#state === "dropped") controller.error(new Error("event stream dropped by the stand-in"));
          else controller.close();
        },
        cancel: () => {
          this.#finish("ended");
          this.#onCancel();
        },
      },
      { highWaterMark: 0 },
    );
  }

  get open(): boolean {
    return this.#state === "open";
  }

  write(text: string): void {
    if (this.#state !== "open") return;
    this.#queue.push(encoder.encode(text));
    this.#wakeReader();
  }

  /** Ends the stream with an error once the client has read what was written. */
  drop(): void {
    this.#finish("dropped");
  }

  /** Ends the stream normally once the client has read what was written. */
  end(): void {
    this.#finish("ended");
  }

  #finish(state: "dropped" | "ended"): void {
    if (this.#state === "open") this.#state = state;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

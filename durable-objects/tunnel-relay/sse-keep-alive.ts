/**
 * SSE keep-alives for relayed `text/event-stream` responses. Cloudflare (and many proxies) drop an
 * SSE response that stays silent for about 100 s, while an MCP GET stream or a slow tool call may
 * legitimately say nothing for longer. After `intervalMs` without output the relay writes an SSE
 * comment (`: keep-alive`), which every SSE parser ignores, but only at an event boundary: a
 * comment inside a half-written event would corrupt it.
 */
const KEEP_ALIVE = new TextEncoder().encode(": keep-alive\n\n");

const LF = 0x0a;
const CR = 0x0d;

/**
 * Follows the byte stream's line structure to tell whether the output so far ends exactly between
 * two events (after a blank line, or before anything was written). Line ends may be LF, CRLF or CR.
 * Whatever the relay adds to a relayed stream (keep-alives, a failure's last event) goes only there.
 */
export class SseBoundary {
  #atBoundary = true;
  #lineLength = 0;
  /** A CR was the last byte: an LF right after it belongs to it (CRLF), not to a new line. */
  #afterCr = false;

  /**
   * True after a blank line. Even between the CR and LF of a CRLF this is safe: the comment ends
   * the CR's line, and the LF that follows is one more blank line, which dispatches nothing.
   */
  get atBoundary(): boolean {
    return this.#atBoundary;
  }

  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === LF && this.#afterCr) {
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = byte === CR;
      if (byte === LF || byte === CR) {
        if (this.#lineLength === 0) this.#atBoundary = true;
        this.#lineLength = 0;
      } else {
        this.#lineLength++;
        this.#atBoundary = false;
      }
    }
  }
}

/**
 * Arms a timer after every write; when it fires, `enqueue` schedules a step on the response's
 * write queue, so the keep-alive is decided after everything written before it and never races a
 * data write. A stream paused mid-event gets no keep-alive until its next write re-arms the timer.
 * `boundary` is the response's own tracker: the caller pushes every data chunk it wrote into it.
 */
export class SseKeepAlive {
  readonly #intervalMs: number;
  readonly #boundary: SseBoundary;
  readonly #enqueue: (step: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Counts writes, so a timer step can tell whether output happened after it was armed. */
  #writes = 0;
  #stopped = false;

  constructor(
    intervalMs: number,
    boundary: SseBoundary,
    enqueue: (step: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>) => void,
  ) {
    this.#intervalMs = intervalMs;
    this.#boundary = boundary;
    this.#enqueue = enqueue;
    this.#arm();
  }

  /** Call after each data chunk was written to the agent (and pushed into the boundary). */
  wrote(): void {
    this.#writes++;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const armedAt = this.#writes;
    this.#timer = setTimeout(() => this.#enqueue((write) => this.#maybeWrite(write, armedAt)), this.#intervalMs);
  }

  async #maybeWrite(write: (bytes: Uint8Array) => Promise<void>, armedAt: number): Promise<void> {
    // Output since arming re-armed the timer already; mid-event, the next write re-arms it.
    if (this.#stopped || this.#writes !== armedAt || !this.#boundary.atBoundary) return;
    await write(KEEP_ALIVE);
    this.#boundary.push(KEEP_ALIVE);
    this.#writes++;
    this.#arm();
  }
}

/**
 * Newline-delimited framing for a stdio MCP server's stdout. Chunks are kept as a list and only
 * joined when a line is complete, so a multi-megabyte tool result costs one copy instead of one
 * per chunk. A line longer than `maxLineBytes` is an error: the caller stops the child rather than
 * buffering without bound.
 */
export class LineDecoder {
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Returns the complete lines in `chunk` (without "\n" or a trailing "\r"); keeps the rest. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let newline = chunk.indexOf(0x0a, start);
    while (newline !== -1) {
      this.#pending.push(chunk.subarray(start, newline));
      lines.push(this.#takeLine());
      start = newline + 1;
      newline = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) {
      this.#pending.push(chunk.subarray(start));
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > this.#maxLineBytes) {
        this.#pending = [];
        this.#pendingBytes = 0;
        throw new Error(`a line on stdout exceeded ${this.#maxLineBytes} bytes`);
      }
    }
    return lines;
  }

  /** Returns what is left after the stream ended without a final newline, if anything. */
  flush(): string | undefined {
    return this.#pending.length > 0 ? this.#takeLine() : undefined;
  }

  #takeLine(): string {
    const line = Buffer.concat(this.#pending).toString("utf8");
    this.#pending = [];
    this.#pendingBytes = 0;
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }
}

/**
 * Reads a file's lines a chunk at a time (RANGE_READ_BYTES), so scanning a file of any size holds
 * one chunk and one batch of lines. Lines split like `cat -n` counts them: a final newline ends the
 * last line rather than starting another.
 *
 * A line longer than MAX_LINE_BYTES (a minified bundle, a data blob) is kept only up to that many
 * bytes, plus at most the rest of the chunk it ends in; its other bytes are skipped. Tools cut such
 * lines further when they show them.
 */
import { type ByteSource, RANGE_READ_BYTES } from "./large-files.ts";

export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 10;

export class LineReader {
  private readonly source: ByteSource;
  private readonly decoder = new TextDecoder();
  /** Next byte of the source to read. */
  private offset = 0;
  /** Bytes of the line in progress (at most MAX_LINE_BYTES). */
  private carry: Uint8Array[] = [];
  private carryBytes = 0;
  /** The line in progress outgrew MAX_LINE_BYTES: skip to its end. */
  private skipping = false;

  constructor(source: ByteSource) {
    this.source = source;
  }

  /** The next lines (one chunk's worth, at least one line), or null at the end of the file. */
  async next(): Promise<string[] | null> {
    while (this.offset < this.source.size) {
      const chunk = await this.read();
      if (chunk.byteLength === 0) break;
      const last = chunk.lastIndexOf(NEWLINE);
      if (last === -1) {
        this.keep(chunk);
        continue;
      }
      const start = this.skipping ? chunk.indexOf(NEWLINE) : 0;
      const head = this.take(chunk.subarray(start, last));
      this.skipping = false;
      this.keep(chunk.subarray(last + 1));
      return this.decoder.decode(head).split("\n");
    }
    if (this.carryBytes === 0 && !this.skipping) return null;
    const rest = this.take(new Uint8Array(0));
    this.skipping = false;
    return [this.decoder.decode(rest)];
  }

  /** How many lines are left, counted without decoding them. */
  async countRest(): Promise<number> {
    let lines = 0;
    let open = this.carryBytes > 0 || this.skipping;
    while (this.offset < this.source.size) {
      const chunk = await this.read();
      if (chunk.byteLength === 0) break;
      for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
      open = chunk[chunk.byteLength - 1] !== NEWLINE;
    }
    this.carry = [];
    this.carryBytes = 0;
    this.skipping = false;
    return lines + (open ? 1 : 0);
  }

  private async read(): Promise<Uint8Array> {
    const chunk = await this.source.read(this.offset, RANGE_READ_BYTES);
    this.offset += chunk.byteLength;
    return chunk;
  }

  private keep(bytes: Uint8Array): void {
    if (this.skipping || bytes.byteLength === 0) return;
    const room = MAX_LINE_BYTES - this.carryBytes;
    if (bytes.byteLength > room) this.skipping = true;
    const kept = bytes.slice(0, room);
    this.carry.push(kept);
    this.carryBytes += kept.byteLength;
  }

  /** The carried bytes followed by `tail`, as one array; empties the carry. */
  private take(tail: Uint8Array): Uint8Array {
    if (this.carryBytes === 0) return tail;
    const out = new Uint8Array(this.carryBytes + tail.byteLength);
    let at = 0;
    for (const part of [...this.carry, tail]) {
      out.set(part, at);
      at += part.byteLength;
    }
    this.carry = [];
    this.carryBytes = 0;
    return out;
  }
}

/** True when the first 8 KiB hold a NUL byte: numbering or grepping such a file would only produce noise. */
export async function looksBinarySource(source: ByteSource): Promise<boolean> {
  return (await source.read(0, 8192)).includes(0);
}

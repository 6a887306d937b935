/**
 * A command's output as it streams out of a real process: decoded as UTF-8 across chunk
 * boundaries (a character split between two reads comes out whole; bytes that are not UTF-8 come
 * out as U+FFFD), passed to the listener as produced, and kept up to a byte budget for stdout and
 * stderr together (100 KiB, as at the edge). Past the budget the bytes are counted and dropped, so
 * a command printing gigabytes costs no memory; when the command ends, each cut stream gets the
 * edge's marker (`[output truncated: 50 MiB total, showing first 100 KiB]`), streamed too.
 */
import { StringDecoder } from "node:string_decoder";
import { DEFAULT_OUTPUT_CAP } from "../../../sandbox/bash/output-cap.ts";
import { formatBytes } from "../../../sandbox/fs/quota.ts";
import type { OutputListener, OutputStream } from "../../../sandbox/tools/context.ts";

export interface CapturedOutput {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export class OutputCapture {
  private readonly decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private readonly text = { stdout: "", stderr: "" };
  private readonly cut = { stdout: false, stderr: false };
  private kept = 0;
  private total = 0;

  private readonly onOutput: OutputListener | undefined;
  private readonly cap: number;

  constructor(onOutput: OutputListener | undefined, cap = DEFAULT_OUTPUT_CAP) {
    this.onOutput = onOutput;
    this.cap = cap;
  }

  push(stream: OutputStream, bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.total += bytes.length;
    const room = this.cap - this.kept;
    if (room <= 0) {
      this.cut[stream] = true;
      return;
    }
    let part = bytes;
    if (bytes.length > room) {
      part = bytes.subarray(0, room);
      this.cut[stream] = true;
    }
    this.kept += part.length;
    this.emit(stream, this.decoders[stream].write(part));
  }

  finish(): CapturedOutput {
    for (const stream of ["stdout", "stderr"] as const) {
      // A character cut at the budget is dropped rather than shown as U+FFFD.
      const rest = this.cut[stream] ? "" : this.decoders[stream].end();
      this.emit(stream, rest);
      if (this.cut[stream]) {
        this.emit(
          stream,
          `\n[output truncated: ${formatBytes(this.total)} total, showing first ${formatBytes(this.cap)}]\n`,
        );
      }
    }
    return { ...this.text, truncated: this.cut.stdout || this.cut.stderr };
  }

  private emit(stream: OutputStream, text: string): void {
    if (text === "") return;
    this.text[stream] += text;
    this.onOutput?.(stream, text);
  }
}

/**
 * Finds the end-of-command mark in a byte stream. Bytes before it pass through at once, except a
 * tail that could be the start of the mark (held until the next chunk says otherwise).
 */
export class MarkScanner {
  private held = Buffer.alloc(0);
  found = false;

  private readonly mark: Buffer;

  constructor(mark: Buffer) {
    this.mark = mark;
  }

  /** The bytes that belong to the command; after the mark, nothing. */
  push(chunk: Buffer): Buffer {
    if (this.found) return Buffer.alloc(0);
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const at = data.indexOf(this.mark);
    if (at >= 0) {
      this.found = true;
      this.held = Buffer.alloc(0);
      return data.subarray(0, at);
    }
    const keep = this.partialMarkAtEnd(data);
    this.held = Buffer.from(data.subarray(data.length - keep));
    return data.subarray(0, data.length - keep);
  }

  private partialMarkAtEnd(data: Buffer): number {
    for (let length = Math.min(this.mark.length - 1, data.length); length > 0; length--) {
      if (data.subarray(data.length - length).equals(this.mark.subarray(0, length))) return length;
    }
    return 0;
  }
}

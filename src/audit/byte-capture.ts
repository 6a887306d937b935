/**
 * Keeps the first `limit` bytes of a body as it streams by, for the audit trail's payloads: a
 * stream is never buffered whole, only its head is copied (and only when payloads are on).
 */
import { concatBytes } from "../http/concat-bytes.ts";

export class ByteCapture {
  readonly #limit: number;
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Uint8Array): void {
    const room = this.#limit - this.#kept;
    if (room <= 0) return;
    const part = chunk.byteLength <= room ? chunk.slice() : chunk.slice(0, room);
    this.#chunks.push(part);
    this.#kept += part.byteLength;
  }

  bytes(): Uint8Array {
    return concatBytes(this.#chunks);
  }
}

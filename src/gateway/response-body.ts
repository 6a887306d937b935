/**
 * Reading an upstream's response body for the tunnel. A small answer that is already complete
 * when its headers arrive (a JSON-RPC result, usually in the same TCP read as the headers) can
 * travel to the edge in one HeadBody frame instead of Head, DATA, END. `readReady` finds out
 * without waiting on the network: it takes what the body has ready now and stops at the first
 * read that would wait, keeping that read for the streaming path, so a stream that is still
 * producing (an event stream, a slow or large body) loses no time and no byte.
 */
import type { ReadChunk } from "../protocol/send-body.ts";

export interface ReadyBody {
  /** Chunks read so far, in order. */
  chunks: Uint8Array[];
  bytes: number;
  /** The body ended within the chunks read. */
  complete: boolean;
  /** Reads the rest: first the chunks above (when not complete), then the body's next chunks. */
  rest: ReadChunk;
}

const NOT_READY = Symbol("not ready");

/**
 * Reads the chunks `reader` has ready, up to `limit` bytes. When the body's length is known and
 * within the limit (`lengthWithin`), it is read to its end even across network reads: it is small
 * and its end is near. Rejects when a read fails (the caller cancels the reader).
 */
export async function readReady(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
  lengthWithin: boolean,
): Promise<ReadyBody> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  let complete = false;
  while (bytes <= limit) {
    const next = reader.read();
    const result = lengthWithin ? await next : await Promise.race([next, nextTurn()]);
    if (result === NOT_READY) {
      pending = next;
      break;
    }
    if (result.done) {
      complete = true;
      break;
    }
    chunks.push(result.value);
    bytes += result.value.byteLength;
  }
  const queued = complete ? [] : [...chunks];
  const rest: ReadChunk = () => {
    const chunk = queued.shift();
    if (chunk) return Promise.resolve({ done: false, value: chunk });
    const read = pending ?? reader.read();
    pending = undefined;
    return read;
  };
  return { chunks, bytes, complete, rest };
}

/** Resolves after everything already queued (I/O callbacks included) has run: "would a read wait?" */
function nextTurn(): Promise<typeof NOT_READY> {
  return new Promise((resolve) => setImmediate(() => resolve(NOT_READY)));
}

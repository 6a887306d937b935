/**
 * Reading an upstream's response body for the tunnel. A small answer that is already complete
 * when its headers arrive (a JSON-RPC result, usually in the same TCP read as the headers) can
 * travel to the edge in one HeadBody frame instead of Head, DATA, END. `readReady` finds out
 * without waiting on the network: it takes what the body has ready now and stops at the first
 * read that would wait, keeping that read for the streaming path, so a stream that is still
 * producing (an event stream, a slow or large body) loses no time and no byte.
 *
 * One bounded exception, `graceMs`: an answer to a POST is often sent in pieces a fraction of a
 * millisecond apart (an MCP server's event stream: the headers, the event, the chunked
 * terminator). Waiting up to `graceMs` after the headers for the rest turns most of those into
 * one frame; an answer that goes on longer is streamed, its start held back by at most `graceMs`.
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

export interface ReadyOptions {
  /** Bytes at most; a body that grows beyond is streamed. */
  limit: number;
  /** The body's length is known and within the limit: read it to its end (it is small, its end near). */
  lengthWithin: boolean;
  /** How long after the headers to wait for the rest of the body before streaming it; 0 for no wait. */
  graceMs: number;
}

/** Reads the chunks `reader` has ready (see the module comment). Rejects when a read fails (the caller cancels the reader). */
export async function readReady(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  { limit, lengthWithin, graceMs }: ReadyOptions,
): Promise<ReadyBody> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  let complete = false;
  const deadline = performance.now() + graceMs;
  while (bytes <= limit) {
    const next = reader.read();
    const result = lengthWithin ? await next : await notAfter(next, Math.max(0, deadline - performance.now()));
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

/**
 * The read's result, or NOT_READY if it is not there after `ms` (0: once everything already queued,
 * I/O callbacks included, has run; that is, "would this read wait?").
 */
async function notAfter<T>(read: Promise<T>, ms: number): Promise<T | typeof NOT_READY> {
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  const notReady = new Promise<typeof NOT_READY>((resolve) => {
    timer = ms > 0 ? setTimeout(resolve, ms, NOT_READY) : setImmediate(resolve, NOT_READY);
  });
  try {
    return await Promise.race([read, notReady]);
  } finally {
    if (ms > 0) clearTimeout(timer as NodeJS.Timeout);
    else clearImmediate(timer as NodeJS.Immediate);
  }
}

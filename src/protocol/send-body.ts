/**
 * Pumps a byte stream into DATA frames within the stream's credit window, then END. Used by the
 * edge for request bodies and by the gateway for response bodies, so both ends behave the same.
 */
import type { CreditWindow } from "./credit-window.ts";
import { encodeFrame, encodeFrameHeader, FrameType } from "./frames.ts";
import { MAX_DATA_FRAME } from "./version.ts";

/**
 * Sends one frame: either whole (`frame`), or as its 5 header bytes and a payload that follows
 * them (`payload` given), so a sender that can write the two parts as one message without joining
 * them (the gateway's `ws`, as two fragments) saves copying the payload.
 */
export type FrameSink = (frame: Uint8Array, payload?: Uint8Array) => void;

/** The next chunk of a body, as a ReadableStream reader's `read()` gives it. */
export type ReadChunk = () => Promise<ReadableStreamReadResult<Uint8Array>>;

export async function sendBody(
  body: ReadableStream<Uint8Array>,
  stream: number,
  credit: CreditWindow,
  send: FrameSink,
): Promise<number> {
  const reader = body.getReader();
  try {
    return await sendChunks(() => reader.read(), stream, credit, send);
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Like sendBody, from any chunk source; the caller owns (and on failure cancels) the source. */
export async function sendChunks(read: ReadChunk, stream: number, credit: CreditWindow, send: FrameSink): Promise<number> {
  let total = 0;
  for (;;) {
    const { done, value } = await read();
    if (done) break;
    let offset = 0;
    while (offset < value.byteLength) {
      const wanted = Math.min(MAX_DATA_FRAME, value.byteLength - offset);
      const n = credit.tryTake(wanted) || (await credit.take(wanted));
      send(encodeFrameHeader(FrameType.Data, stream), value.subarray(offset, offset + n));
      offset += n;
      total += n;
    }
  }
  send(encodeFrame(FrameType.End, stream));
  return total;
}

/**
 * Pumps a byte stream into DATA frames within the stream's credit window, then END. Used by the
 * edge for request bodies and by the gateway for response bodies, so both ends behave the same.
 */
import type { CreditWindow } from "./credit-window.ts";
import { encodeFrame, encodeFrameHeader, FrameType } from "./frames.ts";
import { MAX_DATA_FRAME } from "./version.ts";

/** Sends one whole frame. */
export type SendFrame = (frame: Uint8Array) => void;

/**
 * Sends a DATA frame given as its 5 header bytes and the payload that follows them, as one
 * message: a sender that can write the two parts without joining them (the gateway's `ws`, as two
 * fragments) saves copying the payload. Without one, DATA frames are joined and go to SendFrame.
 */
export type SendData = (header: Uint8Array, payload: Uint8Array) => void;

/** The next chunk of a body, as a ReadableStream reader's `read()` gives it. */
export type ReadChunk = () => Promise<ReadableStreamReadResult<Uint8Array>>;

export async function sendBody(
  body: ReadableStream<Uint8Array>,
  stream: number,
  credit: CreditWindow,
  send: SendFrame,
  sendData?: SendData,
): Promise<number> {
  const reader = body.getReader();
  try {
    return await sendChunks(() => reader.read(), stream, credit, send, sendData);
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Like sendBody, for a body already in memory (split into DATA frames within the credit). */
export function sendBytes(body: Uint8Array, stream: number, credit: CreditWindow, send: SendFrame): Promise<number> {
  let pending: Uint8Array | null = body;
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    const chunk = pending;
    pending = null;
    return chunk ? { done: false, value: chunk } : { done: true, value: undefined };
  };
  return sendChunks(read, stream, credit, send);
}

/** Like sendBody, from any chunk source; the caller owns (and on failure cancels) the source. */
export async function sendChunks(
  read: ReadChunk,
  stream: number,
  credit: CreditWindow,
  send: SendFrame,
  sendData?: SendData,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { done, value } = await read();
    if (done) break;
    let offset = 0;
    while (offset < value.byteLength) {
      const wanted = Math.min(MAX_DATA_FRAME, value.byteLength - offset);
      const n = credit.tryTake(wanted) || (await credit.take(wanted));
      const payload = value.subarray(offset, offset + n);
      if (sendData) sendData(encodeFrameHeader(FrameType.Data, stream), payload);
      else send(encodeFrame(FrameType.Data, stream, payload));
      offset += n;
      total += n;
    }
  }
  send(encodeFrame(FrameType.End, stream));
  return total;
}

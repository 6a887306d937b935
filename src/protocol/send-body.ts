/**
 * Pumps a byte stream into DATA frames within the stream's credit window, then END. Used by the
 * edge for request bodies and by the gateway for response bodies, so both ends behave the same.
 */
import type { CreditWindow } from "./credit-window.ts";
import { encodeFrame, FrameType } from "./frames.ts";
import { MAX_DATA_FRAME } from "./version.ts";

export async function sendBody(
  body: ReadableStream<Uint8Array>,
  stream: number,
  credit: CreditWindow,
  send: (frame: Uint8Array) => void,
): Promise<number> {
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.byteLength) {
        const n = await credit.take(Math.min(MAX_DATA_FRAME, value.byteLength - offset));
        send(encodeFrame(FrameType.Data, stream, value.subarray(offset, offset + n)));
        offset += n;
        total += n;
      }
    }
    send(encodeFrame(FrameType.End, stream));
    return total;
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

import type { ToolCallEvent, ToolCallStreamEvent } from "./events.ts";

/**
 * Keep-alive period for streamed answers. Cloudflare cuts SSE idle for ~100 s and the contract promises
 * a heartbeat at least every 15 s; 10 s leaves room for a busy event loop.
 */
export const HEARTBEAT_INTERVAL_MS = 10_000;

export interface EventStreamOptions {
  /** HEARTBEAT_INTERVAL_MS unless given (tests shorten it to see heartbeats without waiting 10 s). */
  heartbeatIntervalMs?: number;
}

/**
 * Turns events into a byte stream in some framing, adding a heartbeat event every interval while the
 * stream is open. The consumer's pace drives the source (pull); cancelling the stream (the client went
 * away) stops the heartbeats and returns the source iterator, so no further tool calls start.
 */
export function encodeEventStream(
  events: AsyncIterable<ToolCallEvent>,
  encode: (event: ToolCallStreamEvent) => string,
  options: EventStreamOptions = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = events[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => clearInterval(timer);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(
        () => controller.enqueue(encoder.encode(encode({ event: "heartbeat" }))),
        options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
      );
    },
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          stop();
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(encode(next.value)));
      } catch (error) {
        stop();
        controller.error(error);
      }
    },
    async cancel() {
      stop();
      await iterator.return?.();
    },
  });
}

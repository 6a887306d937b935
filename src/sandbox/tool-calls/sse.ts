import { type EventStreamOptions, encodeEventStream } from "./event-stream.ts";
import type { ToolCallEvent, ToolCallStreamEvent } from "./events.ts";

export const SSE_CONTENT_TYPE = "text/event-stream";

/** One SSE message: the event's name as `event:`, the whole event as JSON on one `data:` line. */
export function encodeSseEvent(event: ToolCallStreamEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The `text/event-stream` answer, with heartbeats. */
export function toSseStream(
  events: AsyncIterable<ToolCallEvent>,
  options?: EventStreamOptions,
): ReadableStream<Uint8Array> {
  return encodeEventStream(events, encodeSseEvent, options);
}

import { type EventStreamOptions, encodeEventStream } from "./event-stream.ts";
import type { ToolCallEvent, ToolCallStreamEvent } from "./events.ts";

export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

/** One line per event, the event's kind in its `event` field. */
export function encodeNdjsonEvent(event: ToolCallStreamEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** The `application/x-ndjson` answer, with heartbeat lines. */
export function toNdjsonStream(
  events: AsyncIterable<ToolCallEvent>,
  options?: EventStreamOptions,
): ReadableStream<Uint8Array> {
  return encodeEventStream(events, encodeNdjsonEvent, options);
}

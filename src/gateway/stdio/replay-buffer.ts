/**
 * What one MCP session of a stdio server said recently, kept so a client whose SSE stream broke can
 * reconnect with `Last-Event-ID` and get what it missed. It is the MCP SDK transport's event store:
 * the transport numbers every event it sends through `storeEvent` and replays through
 * `replayEventsAfter`.
 *
 * State (memory only, one buffer per session): the events in the order they were sent, each with
 * its stream and size. Event ids are the session's sequence numbers, so the kept events always hold
 * consecutive ids. Bounded by count and by bytes (the JSON size of the messages): past either bound
 * the oldest events go first, whichever stream they belong to, and an event larger than the byte
 * bound on its own is not kept at all (together with everything before it, so no cursor can skip
 * it). A cursor whose event is gone is unknown: replaying from it would skip messages silently.
 *
 * Lifecycle: created with its session, `clear()` when the session ends (nothing is kept after).
 */
import type { EventId, EventStore, StreamId } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface ReplayBounds {
  /** Most events kept per session. */
  maxEvents: number;
  /** Most bytes (JSON of the kept messages) per session. */
  maxBytes: number;
}

export const DEFAULT_REPLAY_BOUNDS: ReplayBounds = { maxEvents: 1_000, maxBytes: 4 * 1024 * 1024 };

interface KeptEvent {
  seq: number;
  streamId: StreamId;
  /** Null for a priming event (an id with empty data, written when a stream opens; stored as `{}`). */
  message: JSONRPCMessage | null;
  bytes: number;
  /** A JSON-RPC response: its stream is complete. */
  isResponse: boolean;
}

/** Where a kept cursor points: its stream, and whether that stream's response is kept after it. */
export interface CursorInfo {
  streamId: StreamId;
  complete: boolean;
}

export class ReplayBuffer implements EventStore {
  readonly #bounds: ReplayBounds;
  #events: KeptEvent[] = [];
  #bytes = 0;
  #nextSeq = 1;
  #cleared = false;

  constructor(bounds: ReplayBounds = DEFAULT_REPLAY_BOUNDS) {
    this.#bounds = bounds;
  }

  /** Events and bytes currently kept. */
  get size(): { events: number; bytes: number } {
    return { events: this.#events.length, bytes: this.#bytes };
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const seq = this.#nextSeq++;
    if (this.#cleared) return String(seq);
    const bytes = Buffer.byteLength(JSON.stringify(message));
    const kept = "jsonrpc" in message ? message : null;
    const isResponse = kept !== null && !("method" in kept);
    this.#events.push({ seq, streamId, message: kept, bytes, isResponse });
    this.#bytes += bytes;
    this.#evict();
    return String(seq);
  }

  /** The stream a kept event belongs to; undefined for an id this buffer does not (or no longer) hold. */
  cursor(eventId: EventId): CursorInfo | undefined {
    const index = this.#indexOf(eventId);
    if (index === undefined) return undefined;
    const { streamId } = this.#events[index] as KeptEvent;
    const complete = this.#events.some((event, i) => i > index && event.streamId === streamId && event.isResponse);
    return { streamId, complete };
  }

  /** The kept events of the cursor's stream after it, in order, priming events left out. */
  eventsAfter(eventId: EventId): { eventId: EventId; message: JSONRPCMessage }[] {
    const index = this.#indexOf(eventId);
    if (index === undefined) throw unknownCursor(eventId);
    const { streamId } = this.#events[index] as KeptEvent;
    const after: { eventId: EventId; message: JSONRPCMessage }[] = [];
    for (const event of this.#events.slice(index + 1)) {
      if (event.streamId !== streamId || event.message === null) continue;
      after.push({ eventId: String(event.seq), message: event.message });
    }
    return after;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const cursor = this.cursor(lastEventId);
    if (!cursor) throw unknownCursor(lastEventId);
    for (const event of this.eventsAfter(lastEventId)) await send(event.eventId, event.message);
    return cursor.streamId;
  }

  /** Forgets everything; later events are numbered but not kept (the session has ended). */
  clear(): void {
    this.#cleared = true;
    this.#events = [];
    this.#bytes = 0;
  }

  #indexOf(eventId: EventId): number | undefined {
    if (!/^[1-9][0-9]{0,15}$/.test(eventId)) return undefined;
    const first = this.#events[0];
    if (!first) return undefined;
    const index = Number(eventId) - first.seq;
    return index >= 0 && index < this.#events.length ? index : undefined;
  }

  #evict(): void {
    const { maxEvents, maxBytes } = this.#bounds;
    while (this.#events.length > maxEvents || this.#bytes > maxBytes) {
      const oldest = this.#events.shift();
      if (!oldest) break;
      this.#bytes -= oldest.bytes;
    }
  }
}

function unknownCursor(eventId: EventId): Error {
  return new Error(`event ${JSON.stringify(eventId)} is not kept for replay`);
}

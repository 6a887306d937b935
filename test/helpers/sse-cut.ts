/**
 * A `fetch` for the SDK client transport that breaks an SSE response off right after a chosen
 * event, the way a dropped connection would: the event is handed on, the rest of the chunk is lost,
 * the HTTP response is cancelled (the connection closes) and the client's read fails. No timer
 * decides where the cut falls. It also records every JSON-RPC message the client received, on
 * which kind of request, so a test can prove that nothing was lost or delivered twice.
 *
 * What the client received of a cut stream is what it says it received: the events up to the one
 * its resuming request names in `Last-Event-ID`. Events handed on just before the cut can still be
 * dropped inside the client's own stream pipeline when the error reaches it (a stream's error
 * discards what is queued); those are moved from `delivered` to `lost` when the client resumes.
 */
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";

export interface Delivered {
  /** POST: the stream of a request; GET: a standalone or resumed stream. */
  via: string;
  eventId: string | undefined;
  message: JSONRPCMessage;
}

export interface SseCutter {
  fetch: typeof fetch;
  delivered: Delivered[];
  /** Messages of a cut stream that never reached the client (after its resume's Last-Event-ID). */
  lost: Delivered[];
  /** The Last-Event-ID of every GET that carried one, in order. */
  resumes: string[];
  /** How many responses were broken off so far. */
  cuts: number;
}

/**
 * Cuts the first `times` SSE responses that deliver a message `cutAfter` accepts, right after it
 * (`via` is the request's method: POST for a request's stream, GET for a standalone or resumed one).
 */
export function sseCutter(cutAfter: (message: JSONRPCMessage, via: string) => boolean, times = 1): SseCutter {
  const cutStreams: StreamEvent[][] = [];
  const cutter: SseCutter = {
    delivered: [],
    lost: [],
    resumes: [],
    cuts: 0,
    fetch: async (input, init) => {
      const method = init?.method ?? "GET";
      const lastEventId = new Headers(init?.headers).get("last-event-id");
      if (method === "GET" && lastEventId) {
        cutter.resumes.push(lastEventId);
        settleCutStream(cutter, cutStreams, lastEventId);
      }
      const response = await fetch(input, init);
      if (!response.body || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
      const body = watch(response.body, method, cutter, (message, events) => {
        if (cutter.cuts >= times || !cutAfter(message, method)) return false;
        cutter.cuts++;
        cutStreams.push(events);
        return true;
      });
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    },
  };
  return cutter;
}

/** An event of one SSE response, in order: its id, and its entry in `delivered` if it carried a message. */
interface StreamEvent {
  eventId: string | undefined;
  entry: Delivered | undefined;
}

/** A resume names the last event the client got: what its cut stream sent after that was lost. */
function settleCutStream(cutter: SseCutter, cutStreams: StreamEvent[][], lastEventId: string): void {
  for (const events of cutStreams) {
    const index = events.findIndex((event) => event.eventId === lastEventId);
    if (index === -1) continue;
    for (const { entry } of events.splice(index + 1)) {
      const at = entry ? cutter.delivered.indexOf(entry) : -1;
      if (entry && at !== -1) cutter.lost.push(...cutter.delivered.splice(at, 1));
    }
  }
}

function watch(
  source: ReadableStream<Uint8Array>,
  via: string,
  cutter: SseCutter,
  shouldCut: (message: JSONRPCMessage, events: StreamEvent[]) => boolean,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const events: StreamEvent[] = [];
  let pending = "";
  let cut = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (cut) {
        // The cut was decided at the previous pull; erroring only now (the queue is drained when
        // pull is called again) gives the chosen event its best chance to reach the client.
        await reader.cancel().catch(() => {});
        controller.error(new TypeError("terminated: connection cut by the test"));
        return;
      }
      const { done, value } = await reader.read().catch((error: unknown) => {
        controller.error(error);
        return { done: true as const, value: undefined };
      });
      if (done) {
        if (pending !== "") controller.enqueue(encoder.encode(pending));
        controller.close();
        return;
      }
      pending += decoder.decode(value, { stream: true });
      let boundary = pending.indexOf("\n\n");
      while (boundary !== -1) {
        const event = pending.slice(0, boundary + 2);
        pending = pending.slice(boundary + 2);
        controller.enqueue(encoder.encode(event));
        const parsed = parseEvent(event);
        const entry = parsed.message ? { via, eventId: parsed.eventId, message: parsed.message } : undefined;
        events.push({ eventId: parsed.eventId, entry });
        if (entry) {
          cutter.delivered.push(entry);
          if (shouldCut(entry.message, events)) {
            // What follows in this chunk is lost with the connection.
            cut = true;
            return;
          }
        }
        boundary = pending.indexOf("\n\n");
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** An SSE event's id and, when its data is a JSON-RPC message, the message (a priming event has none). */
function parseEvent(event: string): { eventId: string | undefined; message: JSONRPCMessage | undefined } {
  let eventId: string | undefined;
  const data: string[] = [];
  for (const line of event.split("\n")) {
    if (line.startsWith("id:")) eventId = line.slice(3).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  const text = data.join("\n");
  if (text === "") return { eventId, message: undefined };
  const message = JSONRPCMessageSchema.safeParse(JSON.parse(text));
  return { eventId, message: message.success ? message.data : undefined };
}

/** The progress values delivered for `token`, in order. */
export function progressOf(delivered: Delivered[], token: string | number): number[] {
  return delivered.flatMap(({ message }) =>
    "method" in message && message.method === "notifications/progress" && message.params?.progressToken === token
      ? [Number(message.params.progress)]
      : [],
  );
}

/** The responses delivered for request `id` (a correct run has exactly one). */
export function responsesTo(delivered: Delivered[], id: string | number): JSONRPCMessage[] {
  return delivered.map((entry) => entry.message).filter((message) => !("method" in message) && message.id === id);
}

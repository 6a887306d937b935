/**
 * A `fetch` for the SDK client transport that breaks an SSE response off right after a chosen
 * event, the way a dropped connection would: the event is delivered, the rest of the chunk is lost,
 * the HTTP response is cancelled (the connection closes) and the client's read fails. No timer
 * decides where the cut falls. It also records every JSON-RPC message the client was handed, on
 * which kind of request, so a test can prove that nothing was lost or delivered twice.
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
  const cutter: SseCutter = {
    delivered: [],
    resumes: [],
    cuts: 0,
    fetch: async (input, init) => {
      const method = init?.method ?? "GET";
      const lastEventId = new Headers(init?.headers).get("last-event-id");
      if (method === "GET" && lastEventId) cutter.resumes.push(lastEventId);
      const response = await fetch(input, init);
      if (!response.body || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
      const body = watch(response.body, method, cutter, (message) => {
        if (cutter.cuts >= times || !cutAfter(message, method)) return false;
        cutter.cuts++;
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

function watch(
  source: ReadableStream<Uint8Array>,
  via: string,
  cutter: SseCutter,
  shouldCut: (message: JSONRPCMessage) => boolean,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
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
        if (parsed) {
          cutter.delivered.push({ via, ...parsed });
          if (shouldCut(parsed.message)) {
            // What follows in this chunk is lost with the connection.
            await reader.cancel().catch(() => {});
            controller.error(new TypeError("terminated: connection cut by the test"));
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

function parseEvent(event: string): { eventId: string | undefined; message: JSONRPCMessage } | undefined {
  let eventId: string | undefined;
  const data: string[] = [];
  for (const line of event.split("\n")) {
    if (line.startsWith("id:")) eventId = line.slice(3).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  const text = data.join("\n");
  if (text === "") return undefined;
  const message = JSONRPCMessageSchema.safeParse(JSON.parse(text));
  return message.success ? { eventId, message: message.data } : undefined;
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

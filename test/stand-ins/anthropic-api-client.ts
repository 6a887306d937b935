/**
 * A minimal client for tests against the Anthropic API stand-in: calls with the headers the SDKs
 * send, and an SSE reader that hands out `event:`/`data:` frames one at a time as they arrive.
 */
import { ANTHROPIC_VERSION, BETA } from "./anthropic-api-stand-in.ts";

export interface CallOptions {
  method?: string;
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  beta?: string;
  signal?: AbortSignal;
}

/** A call to the stand-in: `Authorization: Bearer <token>` plus anthropic-version and -beta. */
export function call(baseUrl: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers({
    "anthropic-version": ANTHROPIC_VERSION,
    "anthropic-beta": options.beta ?? BETA.managedAgents,
  });
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  return fetch(`${baseUrl}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
}

export interface SseFrame {
  event: string | undefined;
  data: string;
}

/** Reads SSE frames from a response body; `next()` rejects when the stream fails or ends. */
export function sseFrames(response: Response) {
  if (!response.body) throw new Error("response has no body");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(): Promise<SseFrame> {
      for (;;) {
        const boundary = buffer.indexOf("\n\n");
        if (boundary !== -1) {
          const raw = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let event: string | undefined;
          const data: string[] = [];
          for (const line of raw.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          }
          return { event, data: data.join("\n") };
        }
        const { done, value } = await reader.read();
        if (done) throw new Error("event stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** The next frame that is not a ping. */
    async nextEvent(): Promise<SseFrame> {
      for (;;) {
        const frame = await this.next();
        if (frame.event !== "ping") return frame;
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

/**
 * Follows a session's events (protocol §3): opens the stream first, then reads the whole history
 * (the stream has no replay), so nothing that happened before or during the connect is missed; the
 * caller dedupes by id. Frames without `event:` are dropped, `ping` ignored, an `error` frame or a
 * broken connection reconnects after 0.5 s doubling up to 10 s. Runs until `signal` aborts; throws
 * only on a final refusal (credentials refused, the session gone): looping on it would not help.
 */
import { ApiError, isRetryableStatus, sleep } from "../../src/managed-agents/api-client.ts";
import { type SessionEvent, SessionEventSchema } from "../../src/managed-agents/protocol.ts";
import { sseFrames } from "../../src/managed-agents/runner/sse-frames.ts";
import { reconnectDelayMs } from "../../src/managed-agents/runner/timings.ts";
import type { WorkApi } from "../../src/managed-agents/runner/work-api.ts";

export interface EventSink {
  /** The history as listed on a (re)connect, oldest first. */
  history(events: SessionEvent[]): void;
  /** One event from the stream. */
  event(event: SessionEvent): void;
  /** Something went wrong, to show operators (never carries a credential). */
  error(message: string): void;
}

export async function followEvents(api: WorkApi, sink: EventSink, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const response = await api.openStream(signal);
      if (!response.body) throw new Error("the event stream has no body");
      const history: SessionEvent[] = [];
      for await (const event of api.history(signal)) history.push(event);
      sink.history(history);
      attempt = 0;
      for await (const frame of sseFrames(response.body)) {
        if (frame.event === "ping") continue;
        if (frame.event === "error") throw new Error(`the event stream sent an error: ${frame.data.slice(0, 200)}`);
        const parsed = SessionEventSchema.safeParse(parseJson(frame.data));
        if (parsed.success) sink.event(parsed.data);
        else sink.error(`event stream: a malformed ${frame.event} event was ignored`);
      }
    } catch (error) {
      if (signal.aborted) return;
      // Refused credentials, or a final 4xx (the session is gone, say): reconnecting would not help.
      if (error instanceof ApiError && !isRetryableStatus(error.status)) throw error;
      sink.error(`event stream: ${error instanceof Error ? error.message : String(error)}`);
    }
    await sleep(reconnectDelayMs(attempt), signal).catch(() => {});
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The calls one work item makes to the API (protocol §2–3), each with the credential §0 gives it
 * (./credentials.ts) and the retries of ../api-client.ts. Answers are validated here, at the boundary.
 */
import { type ApiCredentials, callApi, callApiJson, NO_RETRY, type RetryPolicy } from "../api-client.ts";
import {
  type HeartbeatResponse,
  HeartbeatResponseSchema,
  NO_HEARTBEAT,
  type Session,
  type SessionEvent,
  SessionEventListSchema,
  SessionSchema,
  type UserToolResult,
} from "../protocol.ts";
import { environmentCredentials, type RunnerCredentialSource, workCredentials } from "./credentials.ts";
import { EVENT_PAGE_LIMIT } from "./timings.ts";

/** Statuses the SDKs retry (408, 409, 429, 5xx). */
const RETRYABLE_STATUSES = [408, 409, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export type HeartbeatAnswer = { kind: "beat"; beat: HeartbeatResponse } | { kind: "precondition_failed" };

export class WorkApi {
  readonly #source: () => RunnerCredentialSource;
  readonly #environmentId: string;
  readonly #workId: string;
  readonly #sessionId: string;

  constructor(source: () => RunnerCredentialSource, ids: { environmentId: string; workId: string; sessionId: string }) {
    this.#source = source;
    this.#environmentId = ids.environmentId;
    this.#workId = ids.workId;
    this.#sessionId = ids.sessionId;
  }

  get environmentCredentials(): ApiCredentials {
    return environmentCredentials(this.#source());
  }

  get workCredentials(): ApiCredentials {
    return workCredentials(this.#source());
  }

  get #work(): string {
    return `/v1/environments/${encodeURIComponent(this.#environmentId)}/work/${encodeURIComponent(this.#workId)}`;
  }

  get #session(): string {
    return `/v1/sessions/${encodeURIComponent(this.#sessionId)}`;
  }

  async ack(signal: AbortSignal): Promise<void> {
    await callApi(this.environmentCredentials, { method: "POST", path: `${this.#work}/ack`, signal });
  }

  /** One beat (query only, no body); a 412 is an answer: the lease is lost. */
  async heartbeat(lastHeartbeat: string | null, retry: RetryPolicy, signal: AbortSignal): Promise<HeartbeatAnswer> {
    const response = await callApi(this.workCredentials, {
      method: "POST",
      path: `${this.#work}/heartbeat`,
      query: { expected_last_heartbeat: lastHeartbeat ?? NO_HEARTBEAT },
      expect: [412],
      retry,
      signal,
    });
    if (response.status === 412) {
      await response.body?.cancel();
      return { kind: "precondition_failed" };
    }
    return { kind: "beat", beat: HeartbeatResponseSchema.parse(await response.json()) };
  }

  /** Stops the work with `force: true`; 409 (already stopped) is fine. */
  async stop(signal: AbortSignal): Promise<void> {
    const response = await callApi(this.workCredentials, {
      method: "POST",
      path: `${this.#work}/stop`,
      body: { force: true },
      expect: [409],
      signal,
    });
    await response.body?.cancel();
  }

  async session(signal: AbortSignal): Promise<Session> {
    return SessionSchema.parse(await callApiJson(this.workCredentials, { method: "GET", path: this.#session, signal }));
  }

  /** Opens the event stream (no replay): the response, once its headers arrived. */
  async openStream(signal: AbortSignal): Promise<Response> {
    return callApi(this.workCredentials, {
      method: "GET",
      path: `${this.#session}/events/stream`,
      accept: "text/event-stream",
      retry: NO_RETRY,
      signal,
    });
  }

  /** The whole event history, oldest first, page by page. */
  async *history(signal: AbortSignal, types: string[] = []): AsyncGenerator<SessionEvent> {
    let page: string | undefined;
    do {
      const url = new URLSearchParams();
      for (const type of types) url.append("types[]", type);
      const answer = SessionEventListSchema.parse(
        await callApiJson(this.workCredentials, {
          method: "GET",
          path: `${this.#session}/events${types.length > 0 ? `?${url}` : ""}`,
          query: { limit: EVENT_PAGE_LIMIT, page },
          signal,
        }),
      );
      yield* answer.data;
      page = answer.next_page ?? undefined;
    } while (page !== undefined);
  }

  /** Whether the session's log already holds the result for `toolUseId` (a post that may have landed). */
  async resultPosted(toolUseId: string, signal: AbortSignal): Promise<boolean> {
    for await (const event of this.history(signal, ["user.tool_result"])) {
      if (event.type === "user.tool_result" && event.tool_use_id === toolUseId) return true;
    }
    return false;
  }

  /**
   * One try at posting a result: the response when it is 2xx or a status worth retrying (its
   * `Retry-After` is the caller's to honour); the caller retries, looking for the echo first.
   */
  async postResult(result: UserToolResult, signal: AbortSignal): Promise<Response> {
    return callApi(this.workCredentials, {
      method: "POST",
      path: `${this.#session}/events`,
      body: { events: [result] },
      retry: NO_RETRY,
      expect: RETRYABLE_STATUSES,
      signal,
    });
  }
}

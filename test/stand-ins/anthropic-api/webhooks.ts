/**
 * Webhook deliveries from the stand-in, signed for real with Tether's Standard Webhooks module:
 * `session.status_run_started` to the environment's URL; a non-2xx answer (3xx included) or a network
 * failure is retried after 1 s·2ⁿ of the stand-in's clock, re-signed with a fresh timestamp but the
 * same `webhook-id` and `event.id`, up to a bounded number of attempts. After 20 failed attempts in
 * a row a URL is disabled: later deliveries are recorded as `disabled` and not sent.
 */
import type { WebhookPayload } from "../../../src/managed-agents/protocol.ts";
import { importWebhookSecret, webhookHeaders } from "../../../src/managed-agents/webhook-signature.ts";
import type { StandInClock } from "./clock.ts";
import type { IdSource } from "./http.ts";

export const DEFAULT_WEBHOOK_ATTEMPTS = 4;
/** Consecutive failed attempts after which a URL gets no more deliveries (the API says "about 20"). */
export const WEBHOOK_DISABLE_AFTER_FAILURES = 20;
const MAX_DELIVERIES_RECORDED = 10_000;

export interface WebhookTarget {
  url: string;
  /** `whsec_…`; several while rotating (each signs the delivery). */
  secrets: string[];
}

export interface WebhookDelivery {
  payload: WebhookPayload;
  body: string;
  /** One entry per attempt: the HTTP status, or the network error's message. */
  attempts: (number | string)[];
  delivered: boolean;
}

export class WebhookSender {
  #inFlight = new Set<Promise<WebhookDelivery>>();
  readonly deliveries: WebhookDelivery[] = [];
  #failuresInARow = new Map<string, number>();

  private readonly clock: StandInClock;
  private readonly ids: IdSource;
  private readonly signal: AbortSignal;

  constructor(clock: StandInClock, ids: IdSource, signal: AbortSignal) {
    this.clock = clock;
    this.ids = ids;
    this.signal = signal;
  }

  /** Sends `session.status_run_started` for a session; resolves when delivered or out of attempts. */
  runStarted(
    target: WebhookTarget,
    sessionId: string,
    maxAttempts = DEFAULT_WEBHOOK_ATTEMPTS,
  ): Promise<WebhookDelivery> {
    const payload: WebhookPayload = {
      type: "event",
      id: this.ids.make("event"),
      created_at: new Date(this.clock.now()).toISOString(),
      data: {
        type: "session.status_run_started",
        id: sessionId,
        organization_id: "org_stand_in",
        workspace_id: "wrkspc_stand_in",
      },
    };
    return this.send(target, payload, maxAttempts);
  }

  /** Delivers a payload (again: a redelivery keeps its event id). */
  send(
    target: WebhookTarget,
    payload: WebhookPayload,
    maxAttempts = DEFAULT_WEBHOOK_ATTEMPTS,
  ): Promise<WebhookDelivery> {
    const delivery: WebhookDelivery = { payload, body: JSON.stringify(payload), attempts: [], delivered: false };
    if (this.deliveries.length >= MAX_DELIVERIES_RECORDED) this.deliveries.shift();
    this.deliveries.push(delivery);
    const running = this.#deliver(target, delivery, maxAttempts).finally(() => this.#inFlight.delete(running));
    this.#inFlight.add(running);
    return running;
  }

  /** Resolves when every delivery under way has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(target: WebhookTarget, delivery: WebhookDelivery, maxAttempts: number): Promise<WebhookDelivery> {
    const keys = await Promise.all(target.secrets.map(importWebhookSecret));
    for (let attempt = 0; attempt < maxAttempts && !this.signal.aborted; attempt++) {
      if ((this.#failuresInARow.get(target.url) ?? 0) >= WEBHOOK_DISABLE_AFTER_FAILURES) {
        delivery.attempts.push("disabled");
        break;
      }
      if (attempt > 0) {
        const slept = await this.clock.sleep(1000 * 2 ** (attempt - 1), this.signal).then(
          () => true,
          () => false,
        );
        if (!slept) break;
      }
      const timestamp = Math.floor(this.clock.now() / 1000);
      const headers = await webhookHeaders(keys, { id: delivery.payload.id, timestamp, body: delivery.body });
      headers.set("content-type", "application/json");
      try {
        const response = await fetch(target.url, {
          method: "POST",
          headers,
          body: delivery.body,
          redirect: "manual",
          signal: this.signal,
        });
        await response.body?.cancel();
        delivery.attempts.push(response.status);
        if (response.status >= 200 && response.status < 300) {
          delivery.delivered = true;
          this.#failuresInARow.delete(target.url);
          break;
        }
      } catch (error) {
        delivery.attempts.push(error instanceof Error ? error.message : String(error));
      }
      this.#failuresInARow.set(target.url, (this.#failuresInARow.get(target.url) ?? 0) + 1);
    }
    return delivery;
  }
}

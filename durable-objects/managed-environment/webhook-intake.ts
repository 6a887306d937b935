/**
 * Checking a webhook delivery before anything is done with it: the Standard Webhooks signature
 * against the environment's secret, then the payload.
 *
 * A delivery to a name without a webhook secret (no such environment, or one in poll mode without
 * a secret) goes through the very same checks against a random key nobody holds, so it fails
 * exactly as a forged delivery to a real environment would (same status, same message for the
 * same headers): the answers do not tell which environment names exist.
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import { type WebhookPayload, WebhookPayloadSchema } from "../../src/managed-agents/protocol.ts";
import { importWebhookSecret, verifyWebhook } from "../../src/managed-agents/webhook-signature.ts";

/** The Standard Webhooks headers, as they cross the RPC boundary. */
export interface DeliveryHeaders {
  "webhook-id"?: string;
  "webhook-timestamp"?: string;
  "webhook-signature"?: string;
}

/** The event type that means a session has work for a worker. */
export const RUN_STARTED = "session.status_run_started";

export function deliveryHeaders(headers: Headers): DeliveryHeaders {
  const out: DeliveryHeaders = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** The delivery's `webhook-id` when signed with `secret`; throws a 401 TetherError otherwise. */
export async function verifyDelivery(
  secret: string | null,
  headers: DeliveryHeaders,
  body: Uint8Array,
): Promise<string> {
  const key =
    secret === null
      ? await crypto.subtle.importKey(
          "raw",
          crypto.getRandomValues(new Uint8Array(32)),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        )
      : await importWebhookSecret(secret);
  const { id } = await verifyWebhook(new Headers({ ...headers }), body, { keys: [key] });
  return id;
}

/** A signed body that is not a webhook event is the sender's mistake: 400 (it is retried, then dropped). */
export function parsePayload(body: Uint8Array): WebhookPayload {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new TetherError("bad_request", "webhook body is not JSON");
  }
  const parsed = WebhookPayloadSchema.safeParse(value);
  if (!parsed.success) throw new TetherError("bad_request", "webhook body is not a Managed Agents event");
  return parsed.data;
}

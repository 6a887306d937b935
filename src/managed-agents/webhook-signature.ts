/**
 * Standard Webhooks signing and verification, as Anthropic signs Managed Agents webhooks:
 * headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (space-separated
 * `v1,<base64>` entries, several during a secret rotation); each signature is the base64 of
 * HMAC-SHA256 over the raw bytes `${id}.${timestamp}.${body}`, keyed with the base64-decoded secret
 * (the part after `whsec_`). WebCrypto only, so the same code runs in workerd and Node.
 */

import { TetherError } from "../errors/tether-error.ts";

/** How far a timestamp may be from the verifier's clock, either way (what the SDKs' `unwrap` allows). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = "whsec_";
/** Standard Webhooks asks for keys of 24 to 64 bytes; Anthropic's are 32. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type WebhookSignatureFailure =
  | "missing_header"
  | "invalid_timestamp"
  | "stale_timestamp"
  | "future_timestamp"
  | "no_matching_signature";

/** A delivery that does not prove it came from the holder of the secret: 401, with the reason. */
export class WebhookSignatureError extends TetherError {
  readonly reason: WebhookSignatureFailure;
  constructor(reason: WebhookSignatureFailure, message: string) {
    super("unauthorized", message);
    this.name = "WebhookSignatureError";
    this.reason = reason;
  }
}

/** A secret that is not `whsec_` + base64 of 24–64 bytes: a configuration error, never a delivery's fault. */
export class WebhookSecretError extends TetherError {
  constructor(message: string) {
    super("bad_request", message);
    this.name = "WebhookSecretError";
  }
}

export type WebhookBody = string | Uint8Array;

export interface SignedWebhook {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: WebhookBody;
}

/** The HMAC key a secret stands for. Throws WebhookSecretError (never echoing the secret) when malformed. */
export async function importWebhookSecret(secret: string): Promise<CryptoKey> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : "";
  if (encoded === "") throw new WebhookSecretError(`webhook secret must start with "${SECRET_PREFIX}"`);
  if (!BASE64.test(encoded)) throw new WebhookSecretError(`webhook secret after "${SECRET_PREFIX}" must be base64`);
  const key = base64ToBytes(encoded);
  if (key.byteLength < MIN_KEY_BYTES || key.byteLength > MAX_KEY_BYTES) {
    throw new WebhookSecretError(`webhook secret must decode to ${MIN_KEY_BYTES}–${MAX_KEY_BYTES} bytes`);
  }
  return crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The `v1,<base64>` signature of one delivery. */
export async function signWebhook(key: CryptoKey, message: SignedWebhook): Promise<string> {
  return `v1,${bytesToBase64(await mac(key, message))}`;
}

/** The three headers of a delivery signed with every key given (more than one while rotating). */
export async function webhookHeaders(keys: readonly CryptoKey[], message: SignedWebhook): Promise<Headers> {
  const signatures = await Promise.all(keys.map((key) => signWebhook(key, message)));
  return new Headers({
    "webhook-id": message.id,
    "webhook-timestamp": String(message.timestamp),
    "webhook-signature": signatures.join(" "),
  });
}

export interface VerifyOptions {
  /** Every secret currently accepted (the new one and the old one during a rotation). */
  keys: readonly CryptoKey[];
  /** The verifier's clock in milliseconds; injectable so tests decide the time. */
  now?: () => number;
  toleranceSeconds?: number;
}

/**
 * Verifies a delivery over its raw body (exactly the bytes received: re-serialised JSON would not
 * match). Returns the `webhook-id` (for idempotent replays) and timestamp, or throws
 * WebhookSignatureError. The timestamp is checked before any HMAC is computed.
 */
export async function verifyWebhook(
  headers: Headers,
  body: WebhookBody,
  options: VerifyOptions,
): Promise<{ id: string; timestamp: number }> {
  const id = requireHeader(headers, "webhook-id");
  const rawTimestamp = requireHeader(headers, "webhook-timestamp");
  const signatureHeader = requireHeader(headers, "webhook-signature");
  if (!/^\d{1,12}$/.test(rawTimestamp)) {
    throw new WebhookSignatureError("invalid_timestamp", "webhook-timestamp is not unix seconds");
  }
  const timestamp = Number(rawTimestamp);
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (timestamp < nowSeconds - tolerance) {
    throw new WebhookSignatureError("stale_timestamp", `webhook-timestamp is more than ${tolerance} s old`);
  }
  if (timestamp > nowSeconds + tolerance) {
    throw new WebhookSignatureError("future_timestamp", `webhook-timestamp is more than ${tolerance} s ahead`);
  }
  const candidates = signatureHeader
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3))
    .filter((encoded) => BASE64.test(encoded))
    .map(base64ToBytes);
  const message = { id, timestamp, body };
  let matched = false;
  for (const key of options.keys) {
    const expected = await mac(key, message);
    // Every candidate is compared against every key, so the time taken says nothing about which matched.
    for (const candidate of candidates) if (constantTimeEqual(expected, candidate)) matched = true;
  }
  if (!matched) throw new WebhookSignatureError("no_matching_signature", "no webhook signature matches");
  return { id, timestamp };
}

function requireHeader(headers: Headers, name: string): string {
  const value = headers.get(name);
  if (value === null || value === "") throw new WebhookSignatureError("missing_header", `${name} header is missing`);
  return value;
}

async function mac(key: CryptoKey, { id, timestamp, body }: SignedWebhook): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.byteLength + bytes.byteLength);
  signed.set(prefix);
  signed.set(bytes, prefix.byteLength);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
}

/** Equal-length comparison that looks at every byte (the length of an HMAC is public). */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

function base64ToBytes(encoded: string): Uint8Array<ArrayBuffer> {
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  importWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookSecretError,
  WebhookSignatureError,
  webhookHeaders,
} from "../../src/managed-agents/webhook-signature.ts";

// The clock every verification below runs at (ms), and the delivery's timestamp (s) at that moment.
const NOW_MS = 1_780_000_000_000;
const NOW_S = NOW_MS / 1000;
const now = () => NOW_MS;

const rawKey = Buffer.from("0123456789abcdef0123456789abcdef"); // 32 bytes, as Anthropic's secrets
const SECRET = `whsec_${rawKey.toString("base64")}`;
const BODY = '{"type":"event","id":"event_01","data":{"type":"session.status_run_started","id":"sesn_01"}}';

/** The signature computed by node:crypto, independently of the module under test. */
function nodeSignature(key: Buffer, id: string, timestamp: number, body: string | Buffer): string {
  const hmac = createHmac("sha256", key);
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(body);
  return `v1,${hmac.digest("base64")}`;
}

function headers(fields: Record<string, string>): Headers {
  return new Headers(fields);
}

async function rejection(promise: Promise<unknown>): Promise<WebhookSignatureError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookSignatureError);
  return error as WebhookSignatureError;
}

describe("Standard Webhooks signatures", () => {
  test("signing matches an HMAC-SHA256 computed by node:crypto over id.timestamp.body", async () => {
    const key = await importWebhookSecret(SECRET);
    const message = { id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp: NOW_S, body: BODY };
    expect(await signWebhook(key, message)).toBe(nodeSignature(rawKey, message.id, NOW_S, BODY));
    // Raw bytes sign the same as the equal string, and non-ASCII bodies are signed as UTF-8.
    const utf8 = '{"text":"héllo ✓"}';
    expect(await signWebhook(key, { ...message, body: new TextEncoder().encode(utf8) })).toBe(
      nodeSignature(rawKey, message.id, NOW_S, Buffer.from(utf8, "utf8")),
    );
    const sent = await webhookHeaders([key], message);
    expect(Object.fromEntries(sent)).toEqual({
      "webhook-id": message.id,
      "webhook-timestamp": String(NOW_S),
      "webhook-signature": nodeSignature(rawKey, message.id, NOW_S, BODY),
    });
  });

  test("a delivery signed by node:crypto verifies and yields its id and timestamp", async () => {
    const key = await importWebhookSecret(SECRET);
    const sent = headers({
      "webhook-id": "event_01",
      "webhook-timestamp": String(NOW_S),
      "webhook-signature": nodeSignature(rawKey, "event_01", NOW_S, BODY),
    });
    expect(await verifyWebhook(sent, BODY, { keys: [key], now })).toEqual({ id: "event_01", timestamp: NOW_S });
  });

  test("several signatures in the header: any v1 match verifies, other versions are ignored", async () => {
    const key = await importWebhookSecret(SECRET);
    const other = randomBytes(32);
    const good = nodeSignature(rawKey, "event_02", NOW_S, BODY);
    const signatureHeader = [
      nodeSignature(other, "event_02", NOW_S, BODY),
      `v2,${good.slice(3)}`,
      "v1,not*base64",
      good,
    ].join(" ");
    const sent = headers({
      "webhook-id": "event_02",
      "webhook-timestamp": String(NOW_S),
      "webhook-signature": signatureHeader,
    });
    await expect(verifyWebhook(sent, BODY, { keys: [key], now })).resolves.toMatchObject({ id: "event_02" });
    // The same good signature only under a non-v1 version does not count.
    sent.set("webhook-signature", `v2,${good.slice(3)}`);
    expect((await rejection(verifyWebhook(sent, BODY, { keys: [key], now }))).reason).toBe("no_matching_signature");
  });

  test("rotated secrets: the verifier accepts the old and the new key; a signer may send both", async () => {
    const oldKey = await importWebhookSecret(SECRET);
    const newRaw = randomBytes(32);
    const newKey = await importWebhookSecret(`whsec_${newRaw.toString("base64")}`);
    const message = { id: "event_03", timestamp: NOW_S, body: BODY };
    const signedWithNew = headers({
      "webhook-id": "event_03",
      "webhook-timestamp": String(NOW_S),
      "webhook-signature": nodeSignature(newRaw, "event_03", NOW_S, BODY),
    });
    await expect(verifyWebhook(signedWithNew, BODY, { keys: [oldKey, newKey], now })).resolves.toBeTruthy();
    expect((await rejection(verifyWebhook(signedWithNew, BODY, { keys: [oldKey], now }))).reason).toBe(
      "no_matching_signature",
    );
    const both = await webhookHeaders([oldKey, newKey], message);
    expect(both.get("webhook-signature")?.split(" ")).toEqual([
      nodeSignature(rawKey, "event_03", NOW_S, BODY),
      nodeSignature(newRaw, "event_03", NOW_S, BODY),
    ]);
    await expect(verifyWebhook(both, BODY, { keys: [newKey], now })).resolves.toBeTruthy();
  });

  test("a tampered body, id or timestamp does not verify", async () => {
    const key = await importWebhookSecret(SECRET);
    const sent = await webhookHeaders([key], { id: "event_04", timestamp: NOW_S, body: BODY });
    const tampered = BODY.replace("sesn_01", "sesn_02");
    expect((await rejection(verifyWebhook(sent, tampered, { keys: [key], now }))).reason).toBe("no_matching_signature");
    // Whitespace matters: the raw bytes are signed, not the JSON value.
    const reformatted = JSON.stringify(JSON.parse(BODY), null, 1);
    expect((await rejection(verifyWebhook(sent, reformatted, { keys: [key], now }))).reason).toBe(
      "no_matching_signature",
    );
    const otherId = new Headers(sent);
    otherId.set("webhook-id", "event_05");
    expect((await rejection(verifyWebhook(otherId, BODY, { keys: [key], now }))).reason).toBe("no_matching_signature");
    const otherTime = new Headers(sent);
    otherTime.set("webhook-timestamp", String(NOW_S - 1));
    expect((await rejection(verifyWebhook(otherTime, BODY, { keys: [key], now }))).reason).toBe(
      "no_matching_signature",
    );
  });

  test("timestamps: ±300 s accepted, older is stale, later is future, non-numbers refused", async () => {
    const key = await importWebhookSecret(SECRET);
    const at = async (timestamp: number | string) => {
      const sent = await webhookHeaders([key], { id: "event_06", timestamp: Number(timestamp), body: BODY });
      sent.set("webhook-timestamp", String(timestamp));
      return verifyWebhook(sent, BODY, { keys: [key], now });
    };
    await expect(at(NOW_S - 300)).resolves.toBeTruthy();
    await expect(at(NOW_S + 300)).resolves.toBeTruthy();
    const stale = await rejection(at(NOW_S - 301));
    expect(stale).toMatchObject({
      reason: "stale_timestamp",
      status: 401,
      message: "webhook-timestamp is more than 300 s old",
    });
    const future = await rejection(at(NOW_S + 301));
    expect(future).toMatchObject({ reason: "future_timestamp", status: 401 });
    expect((await rejection(at("17e8"))).reason).toBe("invalid_timestamp");
    expect((await rejection(at("-5"))).reason).toBe("invalid_timestamp");
    // The tolerance is configurable, and the clock is the injected one, not the machine's.
    const sent = await webhookHeaders([key], { id: "event_07", timestamp: NOW_S - 10, body: BODY });
    expect((await rejection(verifyWebhook(sent, BODY, { keys: [key], now, toleranceSeconds: 5 }))).reason).toBe(
      "stale_timestamp",
    );
  });

  test("each missing or empty header is named", async () => {
    const key = await importWebhookSecret(SECRET);
    const full = await webhookHeaders([key], { id: "event_08", timestamp: NOW_S, body: BODY });
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      for (const value of [undefined, ""]) {
        const sent = new Headers(full);
        if (value === undefined) sent.delete(name);
        else sent.set(name, value);
        const error = await rejection(verifyWebhook(sent, BODY, { keys: [key], now }));
        expect(error).toMatchObject({ reason: "missing_header", message: `${name} header is missing`, status: 401 });
      }
    }
  });

  test("malformed secrets are a configuration error that never echoes the secret", async () => {
    const cases = [
      rawKey.toString("base64"), // no prefix
      "whsec_",
      "whsec_not base64!",
      `whsec_${randomBytes(16).toString("base64")}`, // too short
      `whsec_${randomBytes(65).toString("base64")}`, // too long
    ];
    for (const secret of cases) {
      const error = await importWebhookSecret(secret).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WebhookSecretError);
      expect((error as WebhookSecretError).status).toBe(400);
      if (secret.length > 10) expect((error as Error).message).not.toContain(secret.slice(6));
    }
    await expect(importWebhookSecret(`whsec_${randomBytes(24).toString("base64")}`)).resolves.toBeTruthy();
    await expect(importWebhookSecret(`whsec_${randomBytes(64).toString("base64")}`)).resolves.toBeTruthy();
  });
});

/**
 * The Standard Webhooks module runs in workerd as it does in Node: a known answer (computed with
 * node:crypto's createHmac, outside this runtime) verifies, and a tampered body does not.
 */
import { describe, expect, test } from "vitest";
import { importWebhookSecret, signWebhook, verifyWebhook } from "../../src/managed-agents/webhook-signature.ts";

const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const BODY = '{"type":"event"}';
const TIMESTAMP = 1_780_000_000;
// HMAC-SHA256 over `event_01.1780000000.{"type":"event"}` with the 32 key bytes "0123456789abcdef" ×2.
const EXPECTED = "v1,LuNVUM0AB9siavTUaD/Coy+Br4mERzqSS8ytx+leqew=";

describe("webhook signatures in workerd", () => {
  test("the known answer is produced and verified; a tampered body is refused", async () => {
    const key = await importWebhookSecret(SECRET);
    expect(await signWebhook(key, { id: "event_01", timestamp: TIMESTAMP, body: BODY })).toBe(EXPECTED);
    const headers = new Headers({
      "webhook-id": "event_01",
      "webhook-timestamp": String(TIMESTAMP),
      "webhook-signature": `v1,bm90IGl0 ${EXPECTED}`,
    });
    const now = () => TIMESTAMP * 1000;
    await expect(verifyWebhook(headers, new TextEncoder().encode(BODY), { keys: [key], now })).resolves.toEqual({
      id: "event_01",
      timestamp: TIMESTAMP,
    });
    await expect(verifyWebhook(headers, `${BODY} `, { keys: [key], now })).rejects.toMatchObject({
      reason: "no_matching_signature",
      status: 401,
    });
  });
});

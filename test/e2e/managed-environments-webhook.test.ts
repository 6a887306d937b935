/**
 * Webhook mode end to end against the local Anthropic API stand-in: deliveries verified with the
 * Standard Webhooks signature (forged, stale, unknown environment → the same kind of 401 and
 * nothing claimed), a valid `session.status_run_started` drains the queue (the runner acknowledges
 * the work), a replayed `webhook-id` gets the same answer and no second drain, other events are
 * acknowledged and ignored, and a body over 64 KiB is 413.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { importWebhookSecret, webhookHeaders } from "../../src/managed-agents/webhook-signature.ts";
import {
  environmentHarness,
  eventually,
  leakedPiece,
  newWebhookSecret,
  runStartedBody,
} from "./environment-helpers.ts";

const h = environmentHarness();
const secrets: string[] = [];

afterAll(() => {
  expect(leakedPiece(h.transcript(), secrets)).toBeNull();
});

const acknowledged = (workId: string) => h.api().work(workId).acknowledgedAt !== null;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A webhook-mode environment whose first drain (armed on create) has finished. */
async function webhookEnvironment(name: string, apiSettings: { webhookUrl?: string } = {}) {
  const api = h.api().createEnvironment(apiSettings);
  const secret = api.webhookSecret ?? newWebhookSecret();
  secrets.push(api.key, secret);
  const created = await h.admin("POST", "/admin/environments", {
    name,
    environment_id: api.id,
    environment_key: api.key,
    api_base_url: h.api().url,
    mode: "webhook",
    webhook_secret: secret,
  });
  expect(created.status).toBe(201);
  await eventually(async () => {
    const shown = (await h.admin("GET", `/admin/environments/${name}`)).body as {
      health: { last_poll_at: string | null };
    };
    return shown.health.last_poll_at !== null;
  });
  return { api, secret };
}

describe("webhook mode against the local Anthropic API stand-in", () => {
  test("forged, stale, unsigned and unknown-environment deliveries → 401, nothing claimed; a valid one drains", async () => {
    const { api, secret } = await webhookEnvironment("hook-verify");
    const session = h.api().createSession(api.id);
    const body = runStartedBody(session.sessionId);
    const polls = h.polls(api.id);

    const forged = await h.deliver("hook-verify", body, { secret: newWebhookSecret() });
    const stale = await h.deliver("hook-verify", body, { secret, timestamp: Math.floor(Date.now() / 1000) - 301 });
    const unsigned = await h.deliver("hook-verify", body, { headers: {} });
    // Signed with the right secret, but the body changed on the way.
    const signedFor = await webhookHeaders([await importWebhookSecret(secret)], {
      id: "msg_tampered",
      timestamp: Math.floor(Date.now() / 1000),
      body,
    });
    const tampered = await h.deliver("hook-verify", body.replace(session.sessionId, "sesn_someone_else"), {
      headers: Object.fromEntries(signedFor),
    });
    const unknown = await h.deliver("hook-nobody", body, { secret: newWebhookSecret() });
    const impossible = await h.deliver("Not_A_Name", body, { secret: newWebhookSecret() });
    expect([forged, stale, unsigned, tampered, unknown, impossible].map((a) => a.status)).toEqual([
      401, 401, 401, 401, 401, 401,
    ]);
    expect(stale.text).toMatch(/more than 300 s old/);
    // An unknown environment answers exactly as a known one does for the same forgery.
    expect(unknown.text).toBe(forged.text);
    expect(impossible.text).toBe(forged.text);
    expect((await h.deliver("hook-nobody", body, { secret, timestamp: 1 })).text).toBe(stale.text);

    await pause(1500);
    expect(h.api().work(session.workId).state).toBe("queued");
    expect(h.polls(api.id)).toBe(polls);

    const valid = await h.deliver("hook-verify", body, { secret });
    expect(valid).toMatchObject({ status: 200, body: { received: true, action: "drain" } });
    await eventually(async () => acknowledged(session.workId));
    const shown = (await h.admin("GET", "/admin/environments/hook-verify")).body as {
      health: { last_webhook_at: string | null };
      live_sessions: number;
    };
    expect(shown.health.last_webhook_at).not.toBeNull();
    expect(shown.live_sessions).toBe(1);
    expect((await h.admin("DELETE", "/admin/environments/hook-verify")).status).toBe(200);
  });

  test("a replayed webhook-id: the same answer, no second drain", async () => {
    const { api, secret } = await webhookEnvironment("hook-replay");
    const id = `msg_${randomBytes(8).toString("hex")}`;
    const body = runStartedBody("sesn_earlier");
    // The queue is empty: the drain this delivery starts is one poll answered null, then it is over.
    const before = h.polls(api.id);
    const answer = await h.deliver("hook-replay", body, { secret, id });
    expect(answer).toMatchObject({ status: 200, body: { action: "drain" } });
    await eventually(async () => h.polls(api.id) > before);

    const second = h.api().createSession(api.id);
    const polls = h.polls(api.id);
    const replay = await h.deliver("hook-replay", body, { secret, id });
    expect([replay.status, replay.text]).toEqual([200, answer.text]);
    await pause(2000);
    expect(h.polls(api.id)).toBe(polls);
    expect(h.api().work(second.workId).state).toBe("queued");
    expect((await h.admin("DELETE", "/admin/environments/hook-replay")).status).toBe(200);
  });

  test("other event types are acknowledged and ignored; a body over 64 KiB is 413", async () => {
    const { api, secret } = await webhookEnvironment("hook-other");
    const session = h.api().createSession(api.id);
    const polls = h.polls(api.id);
    const other = await h.deliver("hook-other", runStartedBody(session.sessionId, "session.status_idle"), { secret });
    expect(other).toMatchObject({ status: 200, body: { received: true, action: "ignored" } });
    const notJson = await h.deliver("hook-other", "not json", { secret });
    expect(notJson.status).toBe(400);
    const big = `{"pad":"${"x".repeat(70 * 1024)}"}`;
    const tooBig = await h.isolated(
      "POST",
      "/managed-agents/hook-other/webhook",
      {
        "content-type": "application/json",
        "webhook-id": "msg_big",
        "webhook-timestamp": "1",
        "webhook-signature": "v1,AAAA",
      },
      big,
    );
    expect(tooBig.status).toBe(413);
    await pause(1500);
    expect(h.polls(api.id)).toBe(polls);
    expect(h.api().work(session.workId).state).toBe("queued");
    expect((await h.admin("DELETE", "/admin/environments/hook-other")).status).toBe(200);
  });

  test("deliveries signed by the stand-in itself (as Anthropic sends them) get the work claimed", async () => {
    const name = "hook-standin";
    const { api } = await webhookEnvironment(name, { webhookUrl: `${h.edge().url}/managed-agents/${name}/webhook` });
    const session = h.api().createSession(api.id);
    await eventually(async () => acknowledged(session.workId));
    await h.api().webhooksSettled();
    const delivery = h.api().webhookDeliveries.find((d) => d.payload.data.id === session.sessionId);
    expect(delivery).toMatchObject({ delivered: true, attempts: [200] });
    expect((await h.admin("DELETE", `/admin/environments/${name}`)).status).toBe(200);
  });
});

/**
 * The stand-in for Anthropic's Managed Agents API: webhook deliveries signed for real (verified with
 * Tether's own Standard Webhooks module), each kind of injected fault, and a clean close. Retries and
 * slow answers run on a ManualClock, so the test decides when each one happens.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ApiErrorBodySchema, WebhookPayloadSchema } from "../../src/managed-agents/protocol.ts";
import { importWebhookSecret, verifyWebhook } from "../../src/managed-agents/webhook-signature.ts";
import { until } from "../helpers/stdio-fixtures.ts";
import { serveWeb, type WebHttpServer } from "../helpers/web-http-server.ts";
import { call, sseFrames } from "../stand-ins/anthropic-api-client.ts";
import {
  type AnthropicApiStandIn,
  ManualClock,
  type StandInEnvironment,
  startAnthropicApiStandIn,
} from "../stand-ins/anthropic-api-stand-in.ts";

let clock: ManualClock;
let api: AnthropicApiStandIn;
let env: StandInEnvironment;
let closed = false;

beforeEach(async () => {
  clock = new ManualClock();
  api = await startAnthropicApiStandIn({ clock, pingIntervalMs: 0 });
  env = api.createEnvironment();
  closed = false;
});
afterEach(async () => {
  if (!closed) await api.close();
});

interface Received {
  headers: Headers;
  body: string;
}

/** A webhook receiver answering the given statuses in turn (200 once they run out). */
async function receiver(statuses: number[]): Promise<WebHttpServer & { received: Received[] }> {
  const received: Received[] = [];
  const server = await serveWeb(async (request) => {
    received.push({ headers: request.headers, body: await request.text() });
    const status = statuses.shift() ?? 200;
    return new Response(null, { status, headers: status === 302 ? { location: "http://127.0.0.1:1/" } : {} });
  });
  return Object.assign(server, { received });
}

describe("Anthropic API stand-in: webhooks", () => {
  test("run_started is signed for real; 5xx and 3xx are retried with the same id, re-signed each time", async () => {
    const target = await receiver([500, 302]);
    try {
      const hooked = api.createEnvironment({ webhookUrl: `${target.url}/hook` });
      const session = api.createSession(hooked.id);
      await clock.untilSleeping(1);
      clock.advance(1000);
      await clock.untilSleeping(1);
      clock.advance(2000);
      await api.webhooksSettled();
      const [delivery] = api.webhookDeliveries;
      expect(delivery).toMatchObject({ attempts: [500, 302, 200], delivered: true });
      expect(target.received).toHaveLength(3);
      const key = await importWebhookSecret(hooked.webhookSecret ?? "");
      const timestamps = [];
      for (const { headers, body } of target.received) {
        const verified = await verifyWebhook(headers, body, { keys: [key], now: () => clock.now() });
        expect(verified.id).toBe(delivery?.payload.id);
        timestamps.push(verified.timestamp);
        expect(WebhookPayloadSchema.parse(JSON.parse(body))).toEqual({
          type: "event",
          id: verified.id,
          created_at: expect.any(String),
          data: {
            type: "session.status_run_started",
            id: session.sessionId,
            organization_id: "org_stand_in",
            workspace_id: "wrkspc_stand_in",
          },
        });
      }
      expect(new Set(timestamps).size).toBe(3);
      // A forged secret does not verify what the stand-in sent.
      const other = await importWebhookSecret(`whsec_${Buffer.alloc(32, 7).toString("base64")}`);
      const first = target.received[0];
      await expect(
        verifyWebhook(first?.headers ?? new Headers(), first?.body ?? "", { keys: [other], now: () => clock.now() }),
      ).rejects.toMatchObject({ reason: "no_matching_signature" });
      // A redelivery (the API's duplicates) carries the same event id.
      const again = await api.redeliver(hooked.id, delivery!);
      expect(again.payload.id).toBe(delivery?.payload.id);
      expect(target.received[3]?.headers.get("webhook-id")).toBe(delivery?.payload.id);
    } finally {
      await target.close();
    }
  });

  test("after 20 failed attempts in a row the URL is disabled: nothing more is sent", async () => {
    const target = await receiver(Array.from({ length: 25 }, () => 500));
    try {
      const hooked = api.createEnvironment({ webhookUrl: target.url });
      const { sessionId } = api.createSession(hooked.id);
      // The automatic delivery retries on the clock; stop it after its first attempt by letting it run out.
      for (let i = 0; i < 3; i++) {
        await clock.untilSleeping(1);
        clock.advance(2 ** i * 1000);
      }
      await api.webhooksSettled();
      for (let i = 0; i < 16; i++) await api.deliverRunStarted(hooked.id, sessionId, 1);
      expect(target.received).toHaveLength(20);
      const disabled = await api.deliverRunStarted(hooked.id, sessionId, 1);
      expect(disabled).toMatchObject({ attempts: ["disabled"], delivered: false });
      expect(target.received).toHaveLength(20);
    } finally {
      await target.close();
    }
  });

  test("while a secret rotates, every delivery carries one signature per secret", async () => {
    const target = await receiver([]);
    try {
      const next = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
      const hooked = api.createEnvironment({ webhookUrl: target.url, extraWebhookSecrets: [next] });
      api.createSession(hooked.id);
      await api.webhooksSettled();
      const [{ headers, body } = { headers: new Headers(), body: "" }] = target.received;
      expect(headers.get("webhook-signature")?.split(" ")).toHaveLength(2);
      for (const secret of [hooked.webhookSecret ?? "", next]) {
        const keys = [await importWebhookSecret(secret)];
        await expect(verifyWebhook(headers, body, { keys, now: () => clock.now() })).resolves.toBeTruthy();
      }
    } finally {
      await target.close();
    }
  });
});

describe("Anthropic API stand-in: fault injection", () => {
  test("the next N matching calls answer 5xx; other calls and later ones are untouched", async () => {
    api.faults.failNext(2, 503, { match: /\/poll$/ });
    const poll = () => call(api.url, `/v1/environments/${env.id}/work/poll`, { token: env.key });
    const stats = () => call(api.url, `/v1/environments/${env.id}/work/stats`, { token: env.key });
    const first = await poll();
    expect(first.status).toBe(503);
    expect(ApiErrorBodySchema.parse(await first.json()).error.type).toBe("overloaded_error");
    expect((await stats()).status).toBe(200);
    expect((await poll()).status).toBe(503);
    expect((await poll()).status).toBe(200);
    expect(api.faults.applied.failures).toBe(2);
  });

  test("429 carries Retry-After; a failed post of a result records nothing, its retry does", async () => {
    const session = api.createSession(env.id);
    const [use] = api.pushToolUses(session.sessionId, [{ name: "bash", input: { command: "true" } }]);
    api.faults.failNext(1, 429, { retryAfterSeconds: 7, match: /^POST .*\/events$/ });
    api.faults.failNext(1, 500, { match: /^POST .*\/events$/ });
    const body = {
      events: [{ type: "user.tool_result", tool_use_id: use?.id, content: [{ type: "text", text: "ok" }] }],
    };
    const send = () => call(api.url, `/v1/sessions/${session.sessionId}/events`, { token: env.key, body });
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(ApiErrorBodySchema.parse(await limited.json()).error.type).toBe("rate_limit_error");
    expect((await send()).status).toBe(500);
    expect(api.posted(session.sessionId)).toEqual([]);
    expect((await send()).status).toBe(200);
    expect(api.posted(session.sessionId)).toHaveLength(1);
    expect(() => api.faults.failNext(1, 404)).toThrow("429 or a 5xx");
  });

  test("a stream dropped after K events fails the reader; the list still has every event", async () => {
    const session = api.createSession(env.id);
    api.faults.dropNextStreamAfter(2);
    const frames = sseFrames(
      await call(api.url, `/v1/sessions/${session.sessionId}/events/stream`, { token: env.key }),
    );
    await api.untilStreamsOpened(session.sessionId, 1);
    const pushed = [1, 2, 3].map((n) => api.pushEvent(session.sessionId, { type: "agent.message", n }).id);
    expect(JSON.parse((await frames.nextEvent()).data).id).toBe(pushed[0]);
    expect(JSON.parse((await frames.nextEvent()).data).id).toBe(pushed[1]);
    await expect(frames.nextEvent()).rejects.toThrow();
    expect(api.openStreams(session.sessionId)).toBe(0);
    expect(api.events(session.sessionId).map((e) => e.id)).toEqual(pushed);
    // Only the next stream was dropped: a new one stays open.
    const again = sseFrames(await call(api.url, `/v1/sessions/${session.sessionId}/events/stream`, { token: env.key }));
    await api.untilStreamsOpened(session.sessionId, 2);
    const fourth = api.pushEvent(session.sessionId, { type: "agent.message" }).id;
    expect(JSON.parse((await again.nextEvent()).data).id).toBe(fourth);
    await again.cancel();
  });

  test("duplicated events appear twice on the stream with the same id, once in the list", async () => {
    const session = api.createSession(env.id);
    const frames = sseFrames(
      await call(api.url, `/v1/sessions/${session.sessionId}/events/stream`, { token: env.key }),
    );
    await api.untilStreamsOpened(session.sessionId, 1);
    api.faults.duplicateNextEvents(1);
    const [use] = api.pushToolUses(session.sessionId, [{ name: "bash", input: { command: "ls" } }]);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(JSON.parse((await frames.nextEvent()).data).id);
    expect(ids.slice(0, 2)).toEqual([use?.id, use?.id]);
    expect(ids[2]).not.toBe(use?.id);
    expect(api.events(session.sessionId).filter((e) => e.id === use?.id)).toHaveLength(1);
    expect(api.faults.applied.duplicates).toBe(1);
    await frames.cancel();
  });

  test("a slow answer waits for the stand-in's clock while other calls go through", async () => {
    api.faults.slowNext(1, 5000, /\/stats$/);
    const stats = () => call(api.url, `/v1/environments/${env.id}/work/stats`, { token: env.key });
    let answered = false;
    const slow = stats().then((response) => {
      answered = true;
      return response;
    });
    await clock.untilSleeping(1);
    expect((await stats()).status).toBe(200);
    expect(answered).toBe(false);
    clock.advance(5000);
    expect((await slow).status).toBe(200);
  });
});

describe("Anthropic API stand-in: closing", () => {
  test("close ends blocked polls, streams and webhook retries, and the port refuses connections", async () => {
    const target = await receiver([500, 500, 500, 500]);
    try {
      const hooked = api.createEnvironment({ webhookUrl: target.url });
      const session = api.createSession(hooked.id);
      const stream = sseFrames(
        await call(api.url, `/v1/sessions/${session.sessionId}/events/stream`, { token: hooked.key }),
      );
      await api.untilStreamsOpened(session.sessionId, 1);
      const blocked = call(api.url, `/v1/environments/${env.id}/work/poll?block_ms=999`, { token: env.key }).then(
        (response) => response.status,
        () => "failed",
      );
      // The poll and the webhook retry are both waiting on the clock, which never moves here.
      await clock.untilSleeping(2);
      closed = true;
      await api.close();
      expect(["failed", 200]).toContain(await blocked);
      await expect(stream.nextEvent()).rejects.toThrow();
      expect(clock.sleeping).toBe(0);
      expect(api.webhookDeliveries[0]).toMatchObject({ attempts: [500], delivered: false });
      await expect(fetch(`${api.url}/v1/sessions/x`)).rejects.toThrow();
    } finally {
      await target.close();
    }
  });

  test("on the real clock too, close leaves no server, socket, poll or ping timer behind", async () => {
    // Servers and sockets of this process (other tests' sockets may still be closing: at most as many).
    const sockets = () => {
      const kinds = process.getActiveResourcesInfo();
      return ["TCPServerWrap", "TCPSocketWrap"].map((kind) => kinds.filter((k) => k === kind).length);
    };
    const noMoreThan = (limit: number[]) => sockets().every((count, i) => count <= (limit[i] ?? 0));
    const baseline = sockets();
    const real = await startAnthropicApiStandIn({ pingIntervalMs: 5 });
    const e = real.createEnvironment();
    const s = real.createSession(e.id);
    const stream = sseFrames(await call(real.url, `/v1/sessions/${s.sessionId}/events/stream`, { token: e.key }));
    expect((await stream.next()).event).toBe("ping");
    expect((await stream.next()).event).toBe("ping"); // the interval runs
    expect(real.liveTimers()).toBe(1);
    // A poll on an empty queue, blocked for up to 999 ms on a real timer.
    const idle = real.createEnvironment();
    const blocked = call(real.url, `/v1/environments/${idle.id}/work/poll?block_ms=999`, { token: idle.key }).then(
      (response) => response.status,
      () => "failed",
    );
    await until(() => real.waitingPolls() === 1, 5000, "the poll to block");
    expect(noMoreThan(baseline)).toBe(false);
    await real.close();
    expect(real.liveTimers()).toBe(0);
    expect(real.waitingPolls()).toBe(0);
    expect(["failed", 200]).toContain(await blocked);
    await expect(stream.nextEvent()).rejects.toThrow(); // after the pings already sent
    await until(() => noMoreThan(baseline), 5000, "every server and socket to be released");
  });
});

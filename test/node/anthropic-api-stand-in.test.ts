/**
 * The stand-in for Anthropic's Managed Agents API follows the protocol document: the work queue
 * (poll, reclaim, ack, heartbeat compare-and-set, lease expiry, stop) and its auth rules. Time is a
 * ManualClock: no assertion depends on which timer fires first.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  ApiErrorBodySchema,
  decodeWorkSecret,
  HeartbeatPreconditionDetailsSchema,
  HeartbeatResponseSchema,
  NO_HEARTBEAT,
  PollResponseSchema,
  WorkQueueStatsSchema,
  WorkSchema,
} from "../../src/managed-agents/protocol.ts";
import { call } from "../stand-ins/anthropic-api-client.ts";
import {
  type AnthropicApiStandIn,
  BETA,
  ManualClock,
  type StandInEnvironment,
  startAnthropicApiStandIn,
} from "../stand-ins/anthropic-api-stand-in.ts";

let clock: ManualClock;
let api: AnthropicApiStandIn;
let env: StandInEnvironment;

beforeEach(async () => {
  clock = new ManualClock();
  api = await startAnthropicApiStandIn({ clock, pingIntervalMs: 0 });
  env = api.createEnvironment();
});
afterEach(() => api.close());

const work = (path = "") => `/v1/environments/${env.id}/work${path}`;

async function poll(query = "", token = env.key) {
  const response = await call(api.url, work(`/poll${query}`), {
    token,
    headers: { "anthropic-worker-id": "worker-1" },
  });
  expect(response.status).toBe(200);
  return PollResponseSchema.parse(await response.json());
}

async function errorOf(response: Response, status: number) {
  expect(response.status).toBe(status);
  return ApiErrorBodySchema.parse(await response.json()).error;
}

const beat = (id: string, expected: string, token = env.key) =>
  call(api.url, work(`/${id}/heartbeat?expected_last_heartbeat=${encodeURIComponent(expected)}`), {
    method: "POST",
    token,
  });

describe("Anthropic API stand-in: work queue", () => {
  test("poll: block_ms outside 1–999 is a 400; an empty queue answers null", async () => {
    for (const bad of ["0", "1000", "x", "-1"]) {
      const error = await errorOf(await call(api.url, work(`/poll?block_ms=${bad}`), { token: env.key }), 400);
      expect(error.type).toBe("invalid_request_error");
      expect(error.message).toContain("block_ms");
    }
    expect(await poll()).toBeNull();
    // The SDKs' `?beta=true` is ignored.
    expect(await poll("?beta=true")).toBeNull();
  });

  test("a session queues work; the poll hands it out with a base64url secret holding the sessions token", async () => {
    const session = api.createSession(env.id, { apiBaseUrl: "https://api.example.test" });
    const item = await poll();
    expect(item).toMatchObject({
      type: "work",
      id: session.workId,
      environment_id: env.id,
      data: { type: "session", id: session.sessionId },
      state: "queued",
    });
    expect(item?.secret).not.toMatch(/[=+/]/); // base64url without padding
    expect(decodeWorkSecret(item?.secret ?? "")).toEqual({
      sessions_token: session.sessionsToken,
      api_base_url: "https://api.example.test",
    });
    // A session created without a per-work token has a null secret.
    api.createSession(env.id, { secret: false });
    expect((await poll("?reclaim_older_than_ms=60000"))?.secret).toBeNull();
  });

  test("a blocked poll is answered as soon as work is queued, else null after block_ms", async () => {
    const blocked = poll("?block_ms=999");
    await clock.untilSleeping(1);
    const session = api.createSession(env.id);
    expect((await blocked)?.id).toBe(session.workId);

    const empty = poll("?block_ms=500");
    await clock.untilSleeping(1);
    clock.advance(500);
    expect(await empty).toBeNull();
  });

  test("two blocked polls, one item: one poll gets it, the other keeps waiting until block_ms ends", async () => {
    const first = poll("?block_ms=999");
    const second = poll("?block_ms=999");
    await clock.untilSleeping(2);
    const session = api.createSession(env.id);
    const winner = await Promise.race([first, second]);
    expect(winner?.id).toBe(session.workId);
    await clock.untilSleeping(1);
    clock.advance(999);
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r?.id ?? null).sort()).toEqual([null, session.workId].sort());
  });

  test("an unacknowledged item is handed out again after reclaim_older_than_ms (default 5000), an acked one never", async () => {
    const session = api.createSession(env.id);
    expect((await poll())?.id).toBe(session.workId);
    expect(await poll()).toBeNull();
    clock.advance(4999);
    expect(await poll()).toBeNull();
    clock.advance(1);
    expect((await poll())?.id).toBe(session.workId);
    clock.advance(100);
    expect((await poll("?reclaim_older_than_ms=100"))?.id).toBe(session.workId);
    const acked = await call(api.url, work(`/${session.workId}/ack`), { method: "POST", token: env.key });
    expect(WorkSchema.parse(await acked.json())).toMatchObject({ state: "starting" });
    clock.advance(10_000);
    expect(await poll("?reclaim_older_than_ms=0")).toBeNull();
  });

  test("after a reclaim two workers hold the item: the first NO_HEARTBEAT wins, the other gets 412", async () => {
    const { workId } = api.createSession(env.id);
    expect((await poll())?.id).toBe(workId);
    clock.advance(5000);
    expect((await poll())?.id).toBe(workId);
    expect((await beat(workId, NO_HEARTBEAT)).status).toBe(200);
    const loser = await errorOf(await beat(workId, NO_HEARTBEAT), 412);
    expect(loser.details).toMatchObject({
      error_code: "heartbeat_precondition_failed",
      current_state: { state: "active" },
    });
  });

  test("a heartbeat for an item no poll handed out is refused with 412", async () => {
    const { workId } = api.createSession(env.id);
    await errorOf(await beat(workId, NO_HEARTBEAT), 412);
    expect(api.work(workId).state).toBe("queued");
  });

  test("heartbeat CAS: NO_HEARTBEAT first, then the exact last_heartbeat; a mismatch is 412 with current_state", async () => {
    const { workId } = api.createSession(env.id);
    await poll();
    await call(api.url, work(`/${workId}/ack`), { method: "POST", token: env.key });
    const first = HeartbeatResponseSchema.parse(await (await beat(workId, NO_HEARTBEAT)).json());
    expect(first).toMatchObject({ type: "work_heartbeat", lease_extended: true, state: "active", ttl_seconds: 60 });
    // The clock has not moved, yet the next beat differs, so a stale echo cannot pass the CAS.
    const second = HeartbeatResponseSchema.parse(await (await beat(workId, first.last_heartbeat)).json());
    expect(second.last_heartbeat).not.toBe(first.last_heartbeat);
    for (const stale of [NO_HEARTBEAT, first.last_heartbeat]) {
      const error = await errorOf(await beat(workId, stale), 412);
      expect(HeartbeatPreconditionDetailsSchema.parse(error.details)).toEqual({
        error_code: "heartbeat_precondition_failed",
        current_state: {
          state: "active",
          last_heartbeat: second.last_heartbeat,
          lease_updated_at: new Date(clock.now()).toISOString(),
          lease_extended: true,
          ttl_seconds: 60,
        },
      });
    }
    // The query is the whole request: a missing expected_last_heartbeat is a 400.
    await errorOf(await call(api.url, work(`/${workId}/heartbeat`), { method: "POST", token: env.key }), 400);
    expect(api.work(workId).lastHeartbeat).toBe(second.last_heartbeat);
  });

  test("a heartbeat before the ack is accepted (both orders), and a later ack keeps the lease", async () => {
    const { workId } = api.createSession(env.id);
    await poll();
    const first = HeartbeatResponseSchema.parse(await (await beat(workId, NO_HEARTBEAT)).json());
    expect(first.state).toBe("active");
    const acked = await call(api.url, work(`/${workId}/ack`), { method: "POST", token: env.key });
    expect(WorkSchema.parse(await acked.json()).state).toBe("active");
    expect((await beat(workId, first.last_heartbeat)).status).toBe(200);
  });

  test("no beat within the TTL: the item is re-queued with last_heartbeat null; the old holder gets 412", async () => {
    const short = api.createEnvironment({ ttlSeconds: 10 });
    const { workId } = api.createSession(short.id);
    const pollShort = () => call(api.url, `/v1/environments/${short.id}/work/poll`, { token: short.key });
    expect(((await (await pollShort()).json()) as { id: string }).id).toBe(workId);
    const beatShort = (expected: string) =>
      call(api.url, `/v1/environments/${short.id}/work/${workId}/heartbeat?expected_last_heartbeat=${expected}`, {
        method: "POST",
        token: short.key,
      });
    const first = HeartbeatResponseSchema.parse(await (await beatShort(NO_HEARTBEAT)).json());
    clock.advance(10_000);
    expect(api.work(workId).state).toBe("active");
    clock.advance(1);
    expect(api.work(workId)).toMatchObject({ state: "queued", lastHeartbeat: null, requeues: 1 });
    expect((await beatShort(encodeURIComponent(first.last_heartbeat))).status).toBe(412);
    expect(((await (await pollShort()).json()) as { id: string }).id).toBe(workId);
  });

  test("stop: force stops, again is 409; without force it is stopping; heartbeats then refuse the lease", async () => {
    const a = api.createSession(env.id);
    const b = api.createSession(env.id);
    const stop = (id: string, body: unknown) => call(api.url, work(`/${id}/stop`), { token: env.key, body });
    expect(WorkSchema.parse(await (await stop(a.workId, { force: true })).json())).toMatchObject({ state: "stopped" });
    const again = await errorOf(await stop(a.workId, { force: true }), 409);
    expect(again.message).toContain("already stopped");
    expect(WorkSchema.parse(await (await stop(b.workId, {})).json()).state).toBe("stopping");
    await poll();
    const heartbeat = HeartbeatResponseSchema.parse(await (await beat(b.workId, NO_HEARTBEAT)).json());
    expect(heartbeat).toMatchObject({ state: "stopping", lease_extended: false });
    await errorOf(await stop("work_unknown", { force: true }), 404);
    await errorOf(await stop(b.workId, { force: "yes" }), 400);
  });

  test("an operator's stop and a refused extension reach the worker through its next heartbeat", async () => {
    const a = api.createSession(env.id);
    const b = api.createSession(env.id);
    await poll();
    await poll();
    const beatA = HeartbeatResponseSchema.parse(await (await beat(a.workId, NO_HEARTBEAT)).json());
    const beatB = HeartbeatResponseSchema.parse(await (await beat(b.workId, NO_HEARTBEAT)).json());
    api.operatorStop(a.workId);
    api.refuseLeaseExtension(b.workId);
    expect(await (await beat(a.workId, beatA.last_heartbeat)).json()).toMatchObject({
      state: "stopping",
      lease_extended: false,
    });
    expect(await (await beat(b.workId, beatB.last_heartbeat)).json()).toMatchObject({
      state: "active",
      lease_extended: false,
    });
  });

  test("stats, get and list describe the queue; unknown ids are 404", async () => {
    const a = api.createSession(env.id);
    clock.advance(1000);
    api.createSession(env.id);
    await poll();
    await call(api.url, work(`/${a.workId}/ack`), { method: "POST", token: env.key });
    const stats = WorkQueueStatsSchema.parse(await (await call(api.url, work("/stats"), { token: env.key })).json());
    expect(stats).toEqual({
      type: "work_queue_stats",
      depth: 1,
      pending: 1,
      oldest_queued_at: new Date(clock.now()).toISOString(),
      workers_polling: 1,
    });
    const got = WorkSchema.parse(await (await call(api.url, work(`/${a.workId}`), { token: env.key })).json());
    expect(got).toMatchObject({ id: a.workId, state: "starting" });
    const listed = (await (await call(api.url, work("?limit=1"), { token: env.key })).json()) as {
      data: unknown[];
      next_page: string | null;
    };
    expect(listed.data).toHaveLength(1);
    expect(listed.next_page).toBe("1");
    const updated = await call(api.url, work(`/${a.workId}`), { token: env.key, body: { metadata: { k: "v" } } });
    expect(WorkSchema.parse(await updated.json()).metadata).toEqual({ k: "v" });
    await errorOf(await call(api.url, work("/work_nope"), { token: env.key }), 404);
    await errorOf(await call(api.url, work("/work_nope/ack"), { method: "POST", token: env.key }), 404);
  });
});

describe("Anthropic API stand-in: auth rules", () => {
  test("every worker call needs the environment key as Bearer; never together with x-api-key", async () => {
    const other = api.createEnvironment();
    const cases: [string | null, Record<string, string>, string][] = [
      [null, {}, "missing Authorization"],
      ["sk-ant-oat01-wrong", {}, "invalid bearer token"],
      [env.key, { "x-api-key": "sk-ant-api03-org" }, "not both"],
      [other.key, {}, "another environment"],
    ];
    for (const [token, headers, message] of cases) {
      const error = await errorOf(await call(api.url, work("/poll"), { token, headers }), 401);
      expect(error).toMatchObject({ type: "authentication_error" });
      expect(error.message).toContain(message);
    }
    // The org API key alone is not a worker credential either.
    await errorOf(await call(api.url, work("/poll"), { headers: { "x-api-key": "sk-ant-api03-org" } }), 401);
    // A rotated key: the old one is refused, the new one works.
    const rotated = api.rotateEnvironmentKey(env.id);
    await errorOf(await call(api.url, work("/poll"), { token: env.key }), 401);
    expect((await call(api.url, work("/poll"), { token: rotated })).status).toBe(200);
  });

  test("anthropic-version and the right anthropic-beta are required; unknown routes are 404", async () => {
    await errorOf(await call(api.url, work("/poll"), { token: env.key, beta: "other-beta" }), 400);
    const both = await call(api.url, work("/poll"), { token: env.key, beta: `other-beta, ${BETA.managedAgents}` });
    expect(both.status).toBe(200);
    await errorOf(
      await call(api.url, work("/poll"), { token: env.key, headers: { "anthropic-version": "2020-01-01" } }),
      400,
    );
    await errorOf(await call(api.url, "/v1/nothing", { token: env.key }), 404);
    await errorOf(await call(api.url, work("/poll"), { method: "DELETE", token: env.key }), 405);
  });

  test("the sessions token serves its own item's calls only; poll, stats and ack take the environment key", async () => {
    const a = api.createSession(env.id);
    const b = api.createSession(env.id);
    const tokenA = a.sessionsToken ?? "";
    await errorOf(await call(api.url, work("/poll"), { token: tokenA }), 401);
    await errorOf(await call(api.url, work("/stats"), { token: tokenA }), 401);
    await errorOf(await call(api.url, work(`/${a.workId}/ack`), { method: "POST", token: tokenA }), 401);
    await poll();
    await call(api.url, work(`/${a.workId}/ack`), { method: "POST", token: env.key });
    expect((await beat(a.workId, NO_HEARTBEAT, tokenA)).status).toBe(200);
    expect((await call(api.url, work(`/${a.workId}`), { token: tokenA })).status).toBe(200);
    await errorOf(await beat(b.workId, NO_HEARTBEAT, tokenA), 401);
    expect((await call(api.url, `/v1/sessions/${a.sessionId}`, { token: tokenA })).status).toBe(200);
    await errorOf(await call(api.url, `/v1/sessions/${b.sessionId}`, { token: tokenA }), 401);
    // The stop with the token works, and so does its repeat (409, not 401).
    expect((await call(api.url, work(`/${a.workId}/stop`), { token: tokenA, body: { force: true } })).status).toBe(200);
    await errorOf(await call(api.url, work(`/${a.workId}/stop`), { token: tokenA, body: { force: true } }), 409);
    // Every call was recorded with the credential it used.
    expect(api.calls.filter((c) => c.principal === "work").length).toBeGreaterThan(0);
    expect(api.calls.find((c) => c.path.endsWith("/poll") && c.status === 200)?.workerId).toBe("worker-1");
  });
});

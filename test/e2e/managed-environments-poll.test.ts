/**
 * Poll mode end to end against the local Anthropic API stand-in: the environment's Durable Object
 * long-polls the work queue, claims session work (its runner acknowledges it), backs off on API
 * errors, shows refused credentials as unhealthy, respects max_sessions, and stops polling and its
 * runners when deleted.
 */
import { afterAll, describe, expect, test } from "vitest";
import { environmentHarness, eventually, leakedPiece } from "./environment-helpers.ts";

const h = environmentHarness();
const secrets: string[] = [];

afterAll(() => {
  expect(leakedPiece(h.transcript(), secrets)).toBeNull();
});

interface Detail {
  worker_id: string;
  live_sessions: number;
  health: { unhealthy: boolean; last_poll_at: string | null; last_api_error: string | null };
  sessions: Array<{ work_id: string; session_id: string; state: string }>;
}

async function pollEnvironment(name: string, settings: { maxSessions?: number; key?: string } = {}) {
  const api = h.api().createEnvironment();
  secrets.push(api.key);
  await registerPoll(name, api, settings);
  return api;
}

/** Registers a stand-in environment at the edge in poll mode (with another key when `key` says so). */
async function registerPoll(
  name: string,
  api: { id: string; key: string },
  settings: { maxSessions?: number; key?: string } = {},
): Promise<void> {
  if (settings.key) secrets.push(settings.key);
  const created = await h.admin("POST", "/admin/environments", {
    name,
    environment_id: api.id,
    environment_key: settings.key ?? api.key,
    api_base_url: h.api().url,
    mode: "poll",
    ...(settings.maxSessions ? { max_sessions: settings.maxSessions } : {}),
  });
  expect(created.status).toBe(201);
}

const detail = async (name: string) => (await h.admin("GET", `/admin/environments/${name}`)).body as Detail;
const acknowledged = (workId: string) => h.api().work(workId).acknowledgedAt !== null;
/** Real time passing, for the few checks that something does NOT happen within a bound. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("poll mode against the local Anthropic API stand-in", () => {
  test("claims queued session work: the runner acknowledges it, the detail lists it", async () => {
    const api = await pollEnvironment("poll-claims");
    const session = h.api().createSession(api.id);
    await eventually(async () => acknowledged(session.workId));
    const polls = h.api().calls.filter((call) => call.path.endsWith(`/environments/${api.id}/work/poll`));
    const shown = await detail("poll-claims");
    // Every poll: the environment key, and the environment's one stable worker id.
    expect(new Set(polls.map((call) => `${call.principal} ${call.workerId}`))).toEqual(
      new Set([`environment ${shown.worker_id}`]),
    );
    expect(shown.live_sessions).toBe(1);
    expect(shown.sessions).toEqual([
      expect.objectContaining({ work_id: session.workId, session_id: session.sessionId }),
    ]);
    const details = await h.admin("GET", `/admin/environments/poll-claims/sessions/${session.workId}`);
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({ workId: session.workId, sessionId: session.sessionId });
    expect((await h.admin("DELETE", "/admin/environments/poll-claims")).status).toBe(200);
  });

  test("5xx and 429 answers: backs off, records the error, then claims the work", async () => {
    const api = h.api().createEnvironment();
    secrets.push(api.key);
    const before = h.api().faults.applied.failures;
    h.api().faults.failNext(2, 503, { match: new RegExp(`/environments/${api.id}/work/poll`) });
    h.api().faults.failNext(1, 429, { match: new RegExp(`/environments/${api.id}/work/poll`) });
    const session = h.api().createSession(api.id);
    await registerPoll("poll-backoff", api);
    await eventually(async () => acknowledged(session.workId), 30_000);
    expect(h.api().faults.applied.failures - before).toBe(3);
    const shown = await detail("poll-backoff");
    expect(shown.health.last_api_error).toMatch(/^429 rate_limit_error/);
    expect(shown.health.unhealthy).toBe(false);
    expect((await h.admin("DELETE", "/admin/environments/poll-backoff")).status).toBe(200);
  });

  test("refused credentials (401): unhealthy in GET, retried only slowly; a new key heals it", async () => {
    const api = await pollEnvironment("poll-refused", { key: `sk-ant-oat01-wrong${"k".repeat(20)}` });
    const session = h.api().createSession(api.id);
    await eventually(async () => (await detail("poll-refused")).health.unhealthy);
    const shown = await detail("poll-refused");
    expect(shown.health.last_api_error).toMatch(/^401 /);
    // The edge logged it (so the secret scan over the log lines has them to scan).
    expect(h.transcript()).toMatch(/environment poll-refused: 401 /);
    const refused = () =>
      h.api().calls.filter((call) => call.path.endsWith(`/environments/${api.id}/work/poll`) && call.status === 401)
        .length;
    // The next try is a minute away: a few seconds see no second refused poll.
    await pause(4000);
    expect(refused()).toBe(1);
    expect(h.api().work(session.workId).state).toBe("queued");

    const healed = await h.admin("PATCH", "/admin/environments/poll-refused", { environment_key: api.key });
    expect(healed.status).toBe(200);
    await eventually(async () => acknowledged(session.workId));
    expect((await detail("poll-refused")).health.unhealthy).toBe(false);
    expect((await h.admin("DELETE", "/admin/environments/poll-refused")).status).toBe(200);
  });

  test("max_sessions 2 with 3 sessions queued: exactly 2 acknowledged, no poll for the third until raised", async () => {
    const api = h.api().createEnvironment();
    secrets.push(api.key);
    const sessions = [h.api().createSession(api.id), h.api().createSession(api.id), h.api().createSession(api.id)];
    await registerPoll("poll-capacity", api, { maxSessions: 2 });
    await eventually(async () => sessions.filter((s) => acknowledged(s.workId)).length === 2);
    const polls = h.api().calls.filter((call) => call.path.endsWith(`/environments/${api.id}/work/poll`)).length;
    await pause(4000);
    expect(sessions.filter((s) => acknowledged(s.workId)).length).toBe(2);
    const third = sessions.find((s) => !acknowledged(s.workId));
    expect(third && h.api().work(third.workId).state).toBe("queued");
    expect(h.api().calls.filter((call) => call.path.endsWith(`/environments/${api.id}/work/poll`)).length).toBe(polls);
    expect((await detail("poll-capacity")).live_sessions).toBe(2);

    // Room for one more: polling resumes and the third is claimed.
    expect((await h.admin("PATCH", "/admin/environments/poll-capacity", { max_sessions: 3 })).status).toBe(200);
    await eventually(async () => sessions.every((s) => acknowledged(s.workId)));
    expect((await h.admin("DELETE", "/admin/environments/poll-capacity")).status).toBe(200);
  });

  test("a runner that ends frees its place: with max_sessions 1 the next queued session is claimed", async () => {
    const api = h.api().createEnvironment();
    secrets.push(api.key);
    const sessions = [h.api().createSession(api.id), h.api().createSession(api.id)];
    // The first acknowledgement waits at the API while the key is rotated there: it is refused, and
    // its runner ends (reporting runnerEnded) without ever holding the work.
    const delaysBefore = h.api().faults.applied.delays;
    h.api().faults.slowNext(1, 3000, new RegExp(`^POST /v1/environments/${api.id}/work/[^/]+/ack$`));
    await registerPoll("poll-freed", api, { maxSessions: 1 });
    await eventually(async () => h.api().faults.applied.delays > delaysBefore);
    const rotated = h.api().rotateEnvironmentKey(api.id);
    secrets.push(rotated);
    expect((await h.admin("PATCH", "/admin/environments/poll-freed", { environment_key: rotated })).status).toBe(200);
    await eventually(async () => sessions.some((s) => acknowledged(s.workId)));
    const refusedAck = h
      .api()
      .calls.filter(
        (call) => call.path.includes(`/environments/${api.id}/`) && call.path.endsWith("/ack") && call.status === 401,
      );
    expect(refusedAck.map((call) => call.path)).toHaveLength(1);
    const shown = await detail("poll-freed");
    expect(shown.live_sessions).toBe(1);
    expect(shown.sessions.map((s) => s.work_id)).toEqual([sessions.find((s) => acknowledged(s.workId))?.workId]);
    expect((await h.admin("DELETE", "/admin/environments/poll-freed")).status).toBe(200);
  });

  test("a rotated key reaches the live runners: they stop their work with it", async () => {
    const api = h.api().createEnvironment();
    secrets.push(api.key);
    // No per-work token: the runner's calls after the acknowledgement use the environment key too.
    const session = h.api().createSession(api.id, { secret: false });
    await registerPoll("poll-rotated", api);
    await eventually(async () => acknowledged(session.workId));
    const rotated = h.api().rotateEnvironmentKey(api.id);
    secrets.push(rotated);
    expect((await h.admin("PATCH", "/admin/environments/poll-rotated", { environment_key: rotated })).status).toBe(200);
    expect((await h.admin("DELETE", "/admin/environments/poll-rotated")).body).toMatchObject({ stopped_sessions: 1 });
    // Stopped with force by the runner (at once, or as its ending completes).
    await eventually(async () => h.api().work(session.workId).state === "stopped");
  });

  test("delete stops every live runner (work stopped) and all polling", async () => {
    const api = await pollEnvironment("poll-deleted");
    const session = h.api().createSession(api.id);
    await eventually(async () => acknowledged(session.workId));
    const deleted = await h.admin("DELETE", "/admin/environments/poll-deleted");
    expect(deleted.body).toMatchObject({ deleted: true, stopped_sessions: 1 });
    // Stopped with force by the runner (at once, or as its ending completes).
    await eventually(async () => h.api().work(session.workId).state === "stopped");
    // A poll already under way (sent, or blocked up to 999 ms at the API) may still finish; none
    // starts after it.
    await pause(1000);
    await eventually(async () => h.api().waitingPolls() === 0);
    const polls = h.polls(api.id);
    await pause(4500);
    expect(h.polls(api.id)).toBe(polls);
    expect((await h.admin("GET", "/admin/environments/poll-deleted")).status).toBe(404);
    // Work queued after the delete stays queued.
    const later = h.api().createSession(api.id);
    await pause(1000);
    expect(h.api().work(later.workId).state).toBe("queued");
  });
});

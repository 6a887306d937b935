/**
 * The stand-in for Anthropic's Managed Agents API follows the protocol document for sessions: the
 * event stream (SSE `event:` frames, pings, no replay), the paged event list, posted results and
 * their echoes, skills and memory stores. Streams are read frame by frame; nothing waits on time.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  ApiErrorBodySchema,
  MemoryListSchema,
  MemorySchema,
  SendEventsResponseSchema,
  SessionEventListSchema,
  SessionEventSchema,
  SessionSchema,
  SkillVersionListSchema,
  SkillVersionSchema,
} from "../../src/managed-agents/protocol.ts";
import { sha256Hex } from "../stand-ins/anthropic-api/skills-memory.ts";
import { call, sseFrames } from "../stand-ins/anthropic-api-client.ts";
import {
  type AnthropicApiStandIn,
  BETA,
  ManualClock,
  type StandInEnvironment,
  type StandInSession,
  startAnthropicApiStandIn,
} from "../stand-ins/anthropic-api-stand-in.ts";
import { buildZip } from "../stand-ins/zip.ts";

let api: AnthropicApiStandIn;
let env: StandInEnvironment;
let session: StandInSession;

beforeEach(async () => {
  api = await startAnthropicApiStandIn({ clock: new ManualClock(), pingIntervalMs: 0 });
  env = api.createEnvironment();
  session = api.createSession(env.id);
});
afterEach(() => api.close());

const events = (path = "") => `/v1/sessions/${session.sessionId}/events${path}`;

async function openStream(opened = 1) {
  const response = await call(api.url, events("/stream"), { token: env.key });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  await api.untilStreamsOpened(session.sessionId, opened);
  const frames = sseFrames(response);
  expect(await frames.next()).toEqual({ event: "ping", data: '{"type":"ping"}' });
  return frames;
}

async function nextEvent(frames: ReturnType<typeof sseFrames>) {
  const frame = await frames.nextEvent();
  const event = SessionEventSchema.parse(JSON.parse(frame.data));
  expect(frame.event).toBe(JSON.parse(frame.data).type);
  return event;
}

const post = (body: unknown, token = env.key) => call(api.url, events(), { token, body });

describe("Anthropic API stand-in: session events", () => {
  test("the session names its skills and memory stores", async () => {
    const store = api.createMemoryStore();
    const s = api.createSession(env.id, {
      skills: [{ skill_id: "skill_1", version: "latest" }],
      memoryStores: [{ memory_store_id: store, access: "read_write", mount_path: "/mnt/memory/notes" }],
    });
    const got = SessionSchema.parse(
      await (await call(api.url, `/v1/sessions/${s.sessionId}`, { token: env.key })).json(),
    );
    expect(got.agent.skills).toEqual([{ skill_id: "skill_1", version: "latest" }]);
    expect(got.resources).toEqual([
      { type: "memory_store", memory_store_id: store, access: "read_write", mount_path: "/mnt/memory/notes" },
    ]);
  });

  test("the stream carries event:<type> frames live, then idle requires_action; no replay for a late stream", async () => {
    const frames = await openStream();
    const [use] = api.pushToolUses(session.sessionId, [
      { name: "bash", input: { command: "ls" }, permission: "allow" },
    ]);
    expect(await nextEvent(frames)).toMatchObject({
      type: "agent.tool_use",
      id: use?.id,
      name: "bash",
      input: { command: "ls" },
      evaluated_permission: "allow",
    });
    expect(await nextEvent(frames)).toMatchObject({
      type: "session.status_idle",
      stop_reason: { type: "requires_action", event_ids: [use?.id] },
    });
    const late = await openStream(2);
    api.pushEvent(session.sessionId, { type: "agent.message", content: [] });
    // The late stream starts with what came after it opened: an unknown type parses as "other".
    expect(await nextEvent(late)).toMatchObject({ type: "other", event_type: "agent.message" });
    expect(await nextEvent(frames)).toMatchObject({ type: "other", event_type: "agent.message" });
    await late.cancel();
    await frames.cancel();
  });

  test("posting a result echoes it with an id, on the stream too; all answered → status_running", async () => {
    const frames = await openStream();
    const [a, b] = api.pushToolUses(session.sessionId, [
      { name: "read", input: { file_path: "a" } },
      { name: "lookup", input: {}, custom: true },
    ]);
    await nextEvent(frames);
    await nextEvent(frames);
    await nextEvent(frames);
    const answer = {
      type: "user.tool_result",
      tool_use_id: a?.id,
      content: [{ type: "text", text: "hello" }],
      is_error: false,
    };
    const echoed = SendEventsResponseSchema.parse(await (await post({ events: [answer] })).json());
    expect(echoed.data).toEqual([{ ...answer, id: expect.stringMatching(/^sevt_/), created_at: expect.any(String) }]);
    expect(await nextEvent(frames)).toEqual(echoed.data[0]);
    expect(api.pending(session.sessionId)).toEqual([b?.id]);
    const custom = {
      type: "user.custom_tool_result",
      custom_tool_use_id: b?.id,
      content: [{ type: "text", text: "x" }],
    };
    expect((await post({ events: [custom] })).status).toBe(200);
    await nextEvent(frames);
    expect(await nextEvent(frames)).toMatchObject({ type: "session.status_running" });
    expect(api.posted(session.sessionId).map((e) => e.type)).toEqual(["user.tool_result", "user.custom_tool_result"]);
    await frames.cancel();
  });

  test("a result must answer a tool use of its own kind; malformed bodies are 400 and record nothing", async () => {
    const [use] = api.pushToolUses(session.sessionId, [{ name: "bash", input: {} }]);
    const bad = [
      { events: [{ type: "user.custom_tool_result", custom_tool_use_id: use?.id }] },
      { events: [{ type: "user.tool_result", tool_use_id: "sevt_unknown" }] },
      { events: [{ type: "user.tool_result", tool_use_id: use?.id, content: [{ type: "nope" }] }] },
      { events: [] },
      { nothing: true },
    ];
    for (const body of bad) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(ApiErrorBodySchema.parse(await response.json()).error.type).toBe("invalid_request_error");
    }
    expect(api.posted(session.sessionId)).toEqual([]);
    expect(api.pending(session.sessionId)).toEqual([use?.id]);
  });

  test("the event list pages with limit/page, oldest first or newest first, and keeps every id", async () => {
    api.pushToolUses(session.sessionId, [
      { name: "bash", input: { command: "1" } },
      { name: "bash", input: { command: "2" } },
    ]);
    api.idle(session.sessionId);
    const all = api.events(session.sessionId).map((e) => e.id);
    expect(all).toHaveLength(4);
    const first = SessionEventListSchema.parse(
      await (await call(api.url, events("?limit=3"), { token: env.key })).json(),
    );
    expect(first.data.map((e) => e.id)).toEqual(all.slice(0, 3));
    const rest = SessionEventListSchema.parse(
      await (await call(api.url, events(`?limit=3&page=${first.next_page}`), { token: env.key })).json(),
    );
    expect(rest.data.map((e) => e.id)).toEqual(all.slice(3));
    expect(rest.next_page).toBeNull();
    const desc = SessionEventListSchema.parse(
      await (await call(api.url, events("?limit=1000&order=desc"), { token: env.key })).json(),
    );
    expect(desc.data.map((e) => e.id)).toEqual([...all].reverse());
    const idle = SessionEventListSchema.parse(
      await (await call(api.url, events("?types[]=session.status_idle"), { token: env.key })).json(),
    );
    expect(idle.data.map((e) => e.type)).toEqual(["session.status_idle", "session.status_idle"]);
    expect((await call(api.url, events("?limit=1001"), { token: env.key })).status).toBe(400);
  });

  test("an open stream carries a ping frame every pingIntervalMs", async () => {
    const pinging = await startAnthropicApiStandIn({ pingIntervalMs: 5 });
    try {
      const e = pinging.createEnvironment();
      const s = pinging.createSession(e.id);
      const frames = sseFrames(await call(pinging.url, `/v1/sessions/${s.sessionId}/events/stream`, { token: e.key }));
      // The ping that opens the stream, then the periodic ones (no events were pushed).
      for (let i = 0; i < 3; i++) expect(await frames.next()).toEqual({ event: "ping", data: '{"type":"ping"}' });
      await frames.cancel();
    } finally {
      await pinging.close();
    }
  });

  test("confirmations, idle, terminated and deleted reach the stream as the worker reads them", async () => {
    const frames = await openStream();
    api.confirm(session.sessionId, "sevt_later", "deny", "not now");
    api.idle(session.sessionId, { type: "end_turn" });
    api.terminate(session.sessionId);
    api.deleteSession(session.sessionId);
    expect(await nextEvent(frames)).toMatchObject({
      type: "user.tool_confirmation",
      tool_use_id: "sevt_later",
      result: "deny",
      deny_message: "not now",
    });
    expect(await nextEvent(frames)).toMatchObject({ type: "session.status_idle", stop_reason: { type: "end_turn" } });
    expect(await nextEvent(frames)).toMatchObject({ type: "session.status_terminated" });
    expect(await nextEvent(frames)).toMatchObject({ type: "session.deleted" });
    await frames.cancel();
  });
});

describe("Anthropic API stand-in: skills and memory stores", () => {
  test("skill versions (newest first), one version, and its content as zip bytes", async () => {
    const old = buildZip([{ name: "tool/SKILL.md", data: "v1" }]);
    const zip = buildZip([
      { name: "tool/SKILL.md", data: "# Tool" },
      { name: "tool/run.sh", data: "echo", mode: 0o100755 },
    ]);
    api.addSkill("skill_1", "1000", "tool", old);
    api.addSkill("skill_1", "2000", "tool", zip);
    const skill = (path: string) =>
      call(api.url, `/v1/skills/skill_1/versions${path}`, { token: env.key, beta: BETA.skills });
    const list = SkillVersionListSchema.parse(await (await skill("")).json());
    expect(list.data.map((v) => v.version)).toEqual(["2000", "1000"]);
    expect(SkillVersionSchema.parse(await (await skill("/1000")).json())).toMatchObject({
      name: "tool",
      version: "1000",
    });
    const content = await skill("/2000/content");
    expect(content.headers.get("content-type")).toBe("application/zip");
    const bytes = new Uint8Array(await content.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x4b, 3, 4]);
    expect(bytes).toEqual(zip);
    expect(new Uint8Array(await (await skill("/latest/content")).arrayBuffer())).toEqual(zip);
    expect((await call(api.url, "/v1/skills/skill_2/versions", { token: env.key, beta: BETA.skills })).status).toBe(
      404,
    );
    // The work's own token serves skills as well.
    expect(
      (await call(api.url, "/v1/skills/skill_1/versions", { token: session.sessionsToken, beta: BETA.skills })).status,
    ).toBe(200);
  });

  test("memories: create, list, get, update under a content_sha256 precondition, delete; the token only", async () => {
    const store = api.createMemoryStore();
    const s = api.createSession(env.id, { memoryStores: [{ memory_store_id: store, mount_path: "/mnt/memory/n" }] });
    const memories = (path = "", body?: unknown, method?: string, token = s.sessionsToken) =>
      call(api.url, `/v1/memory_stores/${store}/memories${path}`, { token, body, method, beta: BETA.memory });
    const forbidden = await memories("", undefined, undefined, env.key);
    expect(forbidden.status).toBe(403);
    expect(ApiErrorBodySchema.parse(await forbidden.json()).error.type).toBe("permission_error");
    expect((await memories("", undefined, undefined, session.sessionsToken)).status).toBe(403); // not mounted
    const created = MemorySchema.parse(await (await memories("", { path: "a.md", content: "one" })).json());
    expect(created.content_sha256).toBe(sha256Hex("one"));
    expect((await memories("", { path: "a.md", content: "dup" })).status).toBe(409);
    const listed = MemoryListSchema.parse(await (await memories()).json());
    expect(listed.data.map((m) => m.id)).toEqual([created.id]);
    const update = (body: unknown) => memories(`/${created.id}`, body);
    const stale = await update({ content: "lost", content_sha256: sha256Hex("zero") });
    expect(stale.status).toBe(412);
    expect(ApiErrorBodySchema.parse(await stale.json()).error.details).toEqual({
      error_code: "content_sha256_mismatch",
      current_content_sha256: sha256Hex("one"),
    });
    expect(api.memories(store)[0]?.content).toBe("one");
    const updated = MemorySchema.parse(
      await (await update({ content: "two", content_sha256: sha256Hex("one") })).json(),
    );
    expect(updated).toMatchObject({ content: "two", content_sha256: sha256Hex("two") });
    expect(MemorySchema.parse(await (await memories(`/${created.id}`)).json()).content).toBe("two");
    expect((await memories(`/${created.id}`, undefined, "DELETE")).status).toBe(200);
    expect((await memories(`/${created.id}`)).status).toBe(404);
  });
});

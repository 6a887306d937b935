/**
 * A local stand-in for Anthropic's Claude Managed Agents API (self-hosted environments), for tests:
 * the real API cannot be reached from here. It serves exactly the endpoints of
 * `managed-agents-protocol.md` on 127.0.0.1 (work queue with leases, session events, skills, memory
 * stores), delivers signed webhooks, and gives tests a scripting API (environments, sessions, agent
 * events, what the worker posted, lease state) plus fault injection. Time goes through a clock a test
 * can replace with a ManualClock. `close()` ends every poll, stream, retry and socket it opened.
 */
import { randomBytes } from "node:crypto";
import { encodeWorkSecret, type WebhookPayload } from "../../src/managed-agents/protocol.ts";
import { serveWeb } from "../helpers/web-http-server.ts";
import { realClock, type StandInClock } from "./anthropic-api/clock.ts";
import { dispatch } from "./anthropic-api/dispatch.ts";
import { Faults } from "./anthropic-api/faults.ts";
import { IdSource } from "./anthropic-api/http.ts";
import { type ScriptedEvent, Sessions, type StoredEvent } from "./anthropic-api/sessions.ts";
import { MemoryStores, Skills } from "./anthropic-api/skills-memory.ts";
import type { CallRecord, StandInState } from "./anthropic-api/state.ts";
import { WebhookSender } from "./anthropic-api/webhooks.ts";
import { DEFAULT_TTL_SECONDS, WorkQueue } from "./anthropic-api/work-queue.ts";
import type { WorkRecord } from "./anthropic-api/work-record.ts";

/** What a session is created with. */
export interface SessionSettings {
  skills?: { skill_id: string; version: string }[];
  memoryStores?: { memory_store_id: string; access?: string; mount_path?: string }[];
  secret?: boolean;
  apiBaseUrl?: string;
}

export { ManualClock, realClock, type StandInClock } from "./anthropic-api/clock.ts";
export { ANTHROPIC_VERSION } from "./anthropic-api/dispatch.ts";
export { BETA } from "./anthropic-api/routes.ts";
export type { StoredEvent } from "./anthropic-api/sessions.ts";
export type { WebhookDelivery } from "./anthropic-api/webhooks.ts";
export type { WorkRecord } from "./anthropic-api/work-record.ts";

export interface StandInOptions {
  clock?: StandInClock;
  /** Interval of `ping` frames on event streams (real time; 0: only the ping that opens a stream). */
  pingIntervalMs?: number;
}

export interface StandInEnvironment {
  id: string;
  key: string;
  /** `whsec_…` when webhooks are configured. */
  webhookSecret: string | undefined;
}

export interface StandInSession {
  sessionId: string;
  workId: string;
  /** The per-work token inside `secret` (null when the work carries no secret). */
  sessionsToken: string | null;
}

export interface ToolUseScript {
  name: string;
  input: Record<string, unknown>;
  /** `evaluated_permission`; absent means allowed. */
  permission?: string;
  custom?: boolean;
}

const MAX_ENVIRONMENTS = 1000;
const token = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`;

export type AnthropicApiStandIn = Awaited<ReturnType<typeof startAnthropicApiStandIn>>;

export async function startAnthropicApiStandIn(options: StandInOptions = {}) {
  const clock = options.clock ?? realClock;
  const ids = new IdSource();
  const faults = new Faults(clock);
  const shutdown = new AbortController();
  const state: StandInState = {
    clock,
    ids,
    faults,
    queue: new WorkQueue(clock, ids),
    sessions: new Sessions(clock, ids, faults, options.pingIntervalMs ?? 15_000),
    skills: new Skills(clock),
    memory: new MemoryStores(clock, ids),
    webhooks: new WebhookSender(clock, ids, shutdown.signal),
    environments: new Map(),
    environmentKeys: new Map(),
    sessionTokens: new Map(),
    calls: [],
  };
  const server = await serveWeb((request, signal) =>
    dispatch(state, request, AbortSignal.any([signal, shutdown.signal])),
  );

  const environment = (id: string) => {
    const found = state.environments.get(id);
    if (!found) throw new Error(`no environment ${id} in the stand-in`);
    return found;
  };

  const queueWork = (environmentId: string, sessionId: string, withSecret = true, apiBaseUrl?: string) => {
    const env = environment(environmentId);
    const sessionsToken = withSecret ? token("sk-ant-req-") : null;
    const secret =
      sessionsToken === null
        ? null
        : encodeWorkSecret({ sessions_token: sessionsToken, ...(apiBaseUrl ? { api_base_url: apiBaseUrl } : {}) });
    const work = state.queue.enqueue(environmentId, sessionId, secret, env.ttlSeconds);
    if (sessionsToken !== null) state.sessionTokens.set(sessionsToken, work.id);
    if (env.webhook) void state.webhooks.runStarted(env.webhook, sessionId);
    return { workId: work.id, sessionsToken };
  };

  return {
    url: server.url,
    clock,
    faults,
    /** Every call answered, in order (bounded). */
    calls: state.calls as readonly CallRecord[],
    webhookDeliveries: state.webhooks.deliveries,

    createEnvironment(
      settings: { ttlSeconds?: number; webhookUrl?: string; extraWebhookSecrets?: string[] } = {},
    ): StandInEnvironment {
      if (state.environments.size >= MAX_ENVIRONMENTS) throw new Error("stand-in holds too many environments");
      const id = ids.make("env");
      const key = token("sk-ant-oat01-");
      const webhookSecret = settings.webhookUrl ? `whsec_${randomBytes(32).toString("base64")}` : undefined;
      const webhook =
        settings.webhookUrl && webhookSecret
          ? { url: settings.webhookUrl, secrets: [webhookSecret, ...(settings.extraWebhookSecrets ?? [])] }
          : undefined;
      state.environments.set(id, { id, key, ttlSeconds: settings.ttlSeconds ?? DEFAULT_TTL_SECONDS, webhook });
      state.environmentKeys.set(key, id);
      return { id, key, webhookSecret };
    },

    /** A new environment key (as regenerating it in the Console does): the old one answers 401 from now on. */
    rotateEnvironmentKey(environmentId: string): string {
      const env = environment(environmentId);
      state.environmentKeys.delete(env.key);
      env.key = token("sk-ant-oat01-");
      state.environmentKeys.set(env.key, env.id);
      return env.key;
    },

    /** A session on the environment; like the real API, creating it queues a work item. */
    createSession(environmentId: string, settings: SessionSettings = {}): StandInSession {
      environment(environmentId);
      const resources = (settings.memoryStores ?? []).map((store) => ({ type: "memory_store" as const, ...store }));
      const session = state.sessions.create(environmentId, settings.skills ?? [], resources);
      return {
        sessionId: session.id,
        ...queueWork(environmentId, session.id, settings.secret ?? true, settings.apiBaseUrl),
      };
    },

    /** Another work item for an existing session (a message to a long-dormant session does this). */
    queueWork: (environmentId: string, sessionId: string) => queueWork(environmentId, sessionId),

    pushEvent: (sessionId: string, event: ScriptedEvent): StoredEvent => state.sessions.append(sessionId, event),

    /** Agent tool uses, then `session.status_idle` with `requires_action` naming them. */
    pushToolUses(sessionId: string, uses: ToolUseScript[]): StoredEvent[] {
      const events = uses.map((use) =>
        state.sessions.append(sessionId, {
          type: use.custom ? "agent.custom_tool_use" : "agent.tool_use",
          name: use.name,
          input: use.input,
          ...(use.permission === undefined ? {} : { evaluated_permission: use.permission }),
        }),
      );
      const eventIds = events.map((event) => event.id);
      state.sessions.append(sessionId, {
        type: "session.status_idle",
        stop_reason: { type: "requires_action", event_ids: eventIds },
      });
      return events;
    },

    /** A client application's verdict on a held tool use (may come before the tool use). */
    confirm: (sessionId: string, toolUseId: string, result: string, denyMessage?: string): StoredEvent =>
      state.sessions.post(sessionId, [
        {
          type: "user.tool_confirmation",
          tool_use_id: toolUseId,
          result,
          ...(denyMessage ? { deny_message: denyMessage } : {}),
        },
      ])[0]!,

    idle: (sessionId: string, stopReason: { type: string } & Record<string, unknown> = { type: "end_turn" }) =>
      state.sessions.append(sessionId, { type: "session.status_idle", stop_reason: stopReason }),
    terminate: (sessionId: string) => state.sessions.append(sessionId, { type: "session.status_terminated" }),
    deleteSession: (sessionId: string) => state.sessions.append(sessionId, { type: "session.deleted" }),

    events: (sessionId: string): readonly StoredEvent[] => state.sessions.get(sessionId).events,
    /** What was posted to the session (results and confirmations), duplicates included. */
    posted: (sessionId: string): readonly StoredEvent[] => state.sessions.get(sessionId).posted,
    /** Calls `listener` with every event posted from now on; answers a function that stops it. */
    onPosted(listener: (sessionId: string, event: StoredEvent) => void): () => void {
      state.sessions.postListeners.add(listener);
      return () => state.sessions.postListeners.delete(listener);
    },
    /** Tool uses still waiting for their result. */
    pending: (sessionId: string): string[] => [...state.sessions.get(sessionId).pending.keys()],
    /** Timers of the stand-in's own that are still running (pings of open streams). */
    liveTimers: (): number => state.sessions.liveTimers,
    /** How many polls are blocked waiting for work right now. */
    waitingPolls: (): number => state.queue.waitingPolls,
    untilStreamsOpened: (sessionId: string, count: number) => state.sessions.untilStreamsOpened(sessionId, count),
    openStreams: (sessionId: string): number => state.sessions.get(sessionId).streams.size,

    /** A copy of the work item's lease and state (leases lapsed by the clock are applied first). */
    work(workId: string): WorkRecord {
      const record = state.queue.record(workId);
      if (!record) throw new Error(`no work ${workId} in the stand-in`);
      return { ...record, metadata: { ...record.metadata } };
    },
    /** From now on the item's heartbeats answer `lease_extended: false`. */
    refuseLeaseExtension(workId: string): void {
      const record = state.queue.record(workId);
      if (record) record.refuseExtension = true;
    },
    /** An operator's stop (org API key): the worker sees `stopping`. */
    operatorStop: (workId: string) => state.queue.requestStop(workId),

    addSkill: (skillId: string, version: string, name: string, content: Uint8Array) =>
      state.skills.add(skillId, version, name, content),
    createMemoryStore: () => state.memory.createStore(),
    memories: (storeId: string) => state.memory.list(storeId),
    /** A memory written on Anthropic's side (by the agent or another session). */
    writeMemory: (storeId: string, path: string, content: string) => state.memory.create(storeId, { path, content }),
    /** A memory changed on Anthropic's side (no precondition). */
    updateMemory: (storeId: string, memoryId: string, content: string) =>
      state.memory.update(storeId, memoryId, { content }),
    /** A memory deleted on Anthropic's side. */
    deleteMemory: (storeId: string, memoryId: string) => state.memory.delete(storeId, memoryId),

    /** Delivers `session.status_run_started` for a session to the environment's webhook URL. */
    deliverRunStarted(environmentId: string, sessionId: string, maxAttempts?: number) {
      const target = environment(environmentId).webhook;
      if (!target) throw new Error(`environment ${environmentId} has no webhook`);
      return state.webhooks.runStarted(target, sessionId, maxAttempts);
    },
    /** The same payload again (same event id), as the API's retries and duplicates do. */
    redeliver(environmentId: string, delivery: { payload: WebhookPayload }) {
      const target = environment(environmentId).webhook;
      if (!target) throw new Error(`environment ${environmentId} has no webhook`);
      return state.webhooks.send(target, delivery.payload, 1);
    },
    webhooksSettled: () => state.webhooks.settled(),

    /** Ends polls, streams and webhook retries, then closes the server and its sockets. */
    async close(): Promise<void> {
      shutdown.abort(new Error("stand-in closed"));
      state.queue.wakeAll();
      state.sessions.closeAll();
      await state.webhooks.settled();
      await server.close();
    },
  };
}

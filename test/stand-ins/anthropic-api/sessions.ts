/**
 * Sessions and their events in the stand-in: the event log (`GET …/events`, paged), the live SSE
 * stream (`GET …/events/stream`: `event: <type>` + `data: <json>` frames, pings, no replay) and the
 * events a worker or client posts (`POST …/events`, echoed with ids, also on the stream). After agent
 * tool uses it writes `session.status_idle` with `requires_action`; once all are answered,
 * `session.status_running`, as the protocol document describes.
 */
import type { MemoryStoreResource, OutgoingEvent, SessionEventInput } from "../../../src/managed-agents/protocol.ts";
import type { StandInClock } from "./clock.ts";
import type { Faults } from "./faults.ts";
import { ApiError, badRequest, type IdSource, notFound } from "./http.ts";
import { SseChannel } from "./sse-channel.ts";

const MAX_EVENTS_PER_SESSION = 10_000;
const MAX_STREAMS_PER_SESSION = 16;
const MAX_SESSIONS = 10_000;

/** An event as stored: the wire object with its id (and created_at). */
export type StoredEvent = SessionEventInput & { id: string; created_at: string };
/** What a script pushes: any event without its id (one is assigned). */
export type ScriptedEvent = { type: string; id?: string } & Record<string, unknown>;

interface Stream {
  channel: SseChannel;
  /** Events still to deliver before the stream is dropped (Infinity: never). */
  dropAfter: number;
  ping: ReturnType<typeof setInterval> | undefined;
}

export interface SessionRecord {
  id: string;
  environmentId: string;
  skills: { skill_id: string; version: string }[];
  resources: MemoryStoreResource[];
  events: StoredEvent[];
  /** Tool uses (by id) still waiting for their result. */
  pending: Map<string, "agent.tool_use" | "agent.custom_tool_use">;
  /** Every event posted to the session, in order (duplicates included: tests count them). */
  posted: StoredEvent[];
  streams: Set<Stream>;
  streamsOpened: number;
}

const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

export class Sessions {
  #sessions = new Map<string, SessionRecord>();
  #pingTimers = new Set<ReturnType<typeof setInterval>>();
  #streamWatchers: { sessionId: string; count: number; resolve: () => void }[] = [];
  /** Called with every event posted to any session, as it is recorded (benchmarks time results by it). */
  readonly postListeners = new Set<(sessionId: string, event: StoredEvent) => void>();

  private readonly clock: StandInClock;
  private readonly ids: IdSource;
  private readonly faults: Faults;
  private readonly pingIntervalMs: number;

  constructor(clock: StandInClock, ids: IdSource, faults: Faults, pingIntervalMs: number) {
    this.clock = clock;
    this.ids = ids;
    this.faults = faults;
    this.pingIntervalMs = pingIntervalMs;
  }

  create(environmentId: string, skills: SessionRecord["skills"], resources: MemoryStoreResource[]): SessionRecord {
    if (this.#sessions.size >= MAX_SESSIONS) throw new Error("stand-in holds too many sessions");
    const session: SessionRecord = {
      id: this.ids.make("sesn"),
      environmentId,
      skills,
      resources,
      events: [],
      pending: new Map(),
      posted: [],
      streams: new Set(),
      streamsOpened: 0,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  get(id: string): SessionRecord {
    const session = this.#sessions.get(id);
    if (!session) throw notFound(`session ${id}`);
    return session;
  }

  /** Appends an event to the log and writes it to every open stream. */
  append(sessionId: string, event: ScriptedEvent): StoredEvent {
    const session = this.get(sessionId);
    if (session.events.length >= MAX_EVENTS_PER_SESSION) throw new Error("stand-in session event log is full");
    const stored = {
      ...event,
      id: event.id ?? this.ids.make("sevt"),
      created_at: new Date(this.clock.now()).toISOString(),
    } as StoredEvent;
    session.events.push(stored);
    if (stored.type === "agent.tool_use" || stored.type === "agent.custom_tool_use") {
      session.pending.set(stored.id, stored.type);
    }
    const copies = this.faults.takeDuplicate() ? 2 : 1;
    for (const stream of [...session.streams]) {
      for (let i = 0; i < copies; i++) this.#write(session, stream, stored);
    }
    return stored;
  }

  /** Records what a worker (or client) posted; returns the echoes with their ids. */
  post(sessionId: string, events: OutgoingEvent[]): StoredEvent[] {
    const session = this.get(sessionId);
    for (const event of events) {
      if (event.type === "user.tool_confirmation") continue;
      const useId = event.type === "user.tool_result" ? event.tool_use_id : event.custom_tool_use_id;
      const expected = event.type === "user.tool_result" ? "agent.tool_use" : "agent.custom_tool_use";
      const call = session.events.find((e) => e.id === useId);
      if (!call || call.type !== expected) throw badRequest(`${event.type} answers no ${expected} with id ${useId}`);
    }
    const echoes = events.map((event) => this.append(sessionId, event));
    session.posted.push(...echoes);
    for (const echo of echoes) for (const listener of this.postListeners) listener(sessionId, echo);
    for (const event of events) {
      const resolved =
        event.type === "user.tool_result"
          ? event.tool_use_id
          : event.type === "user.custom_tool_result"
            ? event.custom_tool_use_id
            : event.result === "allow"
              ? undefined
              : event.tool_use_id; // a denied call is resolved by the server, not the worker
      if (resolved !== undefined && session.pending.delete(resolved) && session.pending.size === 0) {
        this.append(sessionId, { type: "session.status_running" });
      }
    }
    return echoes;
  }

  /**
   * `GET …/events?limit&page`: the log from offset `page`, oldest first (or newest with `order=desc`),
   * only the given `types[]` when any are named.
   */
  list(sessionId: string, limit: number, page: string | null, order: "asc" | "desc", types: string[]) {
    const session = this.get(sessionId);
    const offset = page === null ? 0 : Number(page);
    if (!Number.isInteger(offset) || offset < 0) throw badRequest("page is not a page token from this list");
    const chosen = types.length === 0 ? session.events : session.events.filter((event) => types.includes(event.type));
    const ordered = order === "asc" ? chosen : [...chosen].reverse();
    const data = ordered.slice(offset, offset + limit);
    const next = offset + data.length;
    return { data, next_page: next < ordered.length ? String(next) : null };
  }

  /** `GET …/events/stream`: only events appended from now on (no replay). */
  openStream(sessionId: string, signal: AbortSignal): Response {
    const session = this.get(sessionId);
    if (session.streams.size >= MAX_STREAMS_PER_SESSION) {
      throw new ApiError(429, "rate_limit_error", "too many event streams for this session", undefined, {
        "retry-after": "1",
      });
    }
    const stream: Stream = {
      channel: new SseChannel(() => this.#close(session, stream, false)),
      dropAfter: this.faults.takeStreamDrop(),
      ping: undefined,
    };
    session.streams.add(stream);
    session.streamsOpened++;
    stream.channel.write(PING);
    if (this.pingIntervalMs > 0) {
      // Not unref'd on purpose: a ping timer left behind would show as a leak (closing clears it).
      stream.ping = setInterval(() => stream.channel.write(PING), this.pingIntervalMs);
      this.#pingTimers.add(stream.ping);
    }
    signal.addEventListener("abort", () => this.#close(session, stream, true), { once: true });
    this.#notifyStreams();
    return new Response(stream.channel.body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  }

  /** Resolves once `count` streams have been opened on the session in total (the moment to push). */
  untilStreamsOpened(sessionId: string, count: number): Promise<void> {
    if (this.get(sessionId).streamsOpened >= count) return Promise.resolve();
    return new Promise((resolve) => this.#streamWatchers.push({ sessionId, count, resolve }));
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const session of this.#sessions.values()) {
      for (const stream of [...session.streams]) this.#close(session, stream, true);
    }
  }

  #write(session: SessionRecord, stream: Stream, event: StoredEvent): void {
    if (!session.streams.has(stream)) return;
    stream.channel.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    stream.dropAfter--;
    if (stream.dropAfter <= 0) {
      // A dropped connection: the client's read fails after the events it already got.
      session.streams.delete(stream);
      this.#stopPing(stream);
      stream.channel.drop();
    }
  }

  #close(session: SessionRecord, stream: Stream, end: boolean): void {
    if (!session.streams.delete(stream)) return;
    this.#stopPing(stream);
    if (end) stream.channel.end();
  }

  /** Ping timers still running (closing the stand-in must leave none). */
  get liveTimers(): number {
    return this.#pingTimers.size;
  }

  #stopPing(stream: Stream): void {
    if (stream.ping === undefined) return;
    clearInterval(stream.ping);
    this.#pingTimers.delete(stream.ping);
  }

  #notifyStreams(): void {
    this.#streamWatchers = this.#streamWatchers.filter((watcher) => {
      if ((this.#sessions.get(watcher.sessionId)?.streamsOpened ?? 0) < watcher.count) return true;
      watcher.resolve();
      return false;
    });
  }
}

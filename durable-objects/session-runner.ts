import { DurableObject } from "cloudflare:workers";
import { TetherError } from "../src/errors/tether-error.ts";
import { ApiError } from "../src/managed-agents/api-client.ts";
import { decodeWorkSecret, type SessionEvent } from "../src/managed-agents/protocol.ts";
import { credentialKind } from "../src/managed-agents/runner/credentials.ts";
import { REPORT_RETRY_MS } from "../src/managed-agents/runner/timings.ts";
import { WorkApi } from "../src/managed-agents/runner/work-api.ts";
import type {
  RunnerDetails,
  RunnerStart,
  RunnerSummary,
  SessionRunnerRpc,
} from "../src/managed-agents/runner-contract.ts";
import type { Env } from "../workers/env.ts";
import { CallProcessor, recoverInterruptedCalls } from "./session-runner/call-processor.ts";
import { finishEnding } from "./session-runner/ending.ts";
import { followEvents } from "./session-runner/event-follower.ts";
import { heartbeat, nextAlarmAt, nextBeatAt } from "./session-runner/lease.ts";
import { RunnerResources, resourceAccess } from "./session-runner/resources.ts";
import { ensureSessionSandbox, sessionSandbox } from "./session-runner/sandbox-setup.ts";
import { applySessionEvent } from "./session-runner/session-event.ts";
import { runnerDetails, runnerSummary } from "./session-runner/status.ts";
import { RunnerStore } from "./session-runner/store.ts";

/** Event ids remembered for dedupe by one instance (a session's log holds at most this many). */
const MAX_SEEN_EVENTS = 100_000;

/**
 * One claimed Managed Agents work item (named by runnerName): lease, event stream, tool calls.
 *
 * Storage: session-runner/store.ts (the work item, its credentials, lease and ending; one row per
 * tool use and per verdict), session-runner/resources-store.ts (skills, memory mounts, the memory
 * sync's baselines), plus the alarm. Memory holds only what an eviction may lose: the event stream
 * being read (`#live`), the tool call in flight, the live memory sync, the event ids seen.
 *
 * Lifecycle: `start` stores the work first, arms the alarm, then acknowledges it and beats once
 * (start returns then); in the background it prepares the sandbox, reads the session, installs its
 * skills and downloads its memory stores (session-runner/resources.ts), and follows the events.
 * The alarm beats every clamp(ttl/2, 1, 30) s, also while a tool runs (a tool call is an awaited
 * RPC, during which the alarm still runs), then starts a memory sync when one is due (never
 * awaited: a sync never holds a beat back), fires the idle exit, and after an eviction picks up
 * where the store says: setup again, following again (a call the eviction interrupted is answered
 * "interrupted", or re-run when read-only), or the ending. The work ends (terminated, deleted,
 * idle, lease over, `stop`) by aborting everything in flight, the final memory sync (none once a
 * beat said the lease is over) and the skills removed, the force-stop unless the lease was lost,
 * and reporting `runnerEnded` to the environment until it takes it.
 */
export class SessionRunner extends DurableObject<Env> implements SessionRunnerRpc {
  readonly #store: RunnerStore;
  readonly #resources: RunnerResources;
  /** Aborted when the work ends: setup, the event stream and the tool calls of this instance. */
  #work = new AbortController();
  #live: CallProcessor | undefined;
  #setupRunning = false;
  #beating = false;
  #finishing: Promise<void> | undefined;
  #seen = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new RunnerStore(ctx.storage.sql);
    this.#resources = new RunnerResources(ctx.storage.sql);
  }

  async start(start: RunnerStart): Promise<RunnerSummary> {
    const existing = this.#store.load();
    if (existing?.state === "ended" && existing.reported === 1) {
      // Handed out again after this runner ended (its lease lapsed, say): new work under the same name.
      this.#store.wipe();
      this.#resources.wipe();
      this.#work = new AbortController();
      this.#live = undefined;
      this.#seen = new Set();
    } else if (existing) {
      if (existing.work_id !== start.work.id) throw new TetherError("conflict", "this runner serves another work item");
      return runnerSummary(this.#store, existing);
    }
    if (start.work.data.type !== "session") throw new TetherError("bad_request", "only session work is run");
    const secret = start.work.secret ? decodeWorkSecret(start.work.secret) : null;
    this.#store.create({
      work: start.work,
      environment: start.environment,
      environmentKey: start.environmentKey,
      sessionsToken: secret?.sessions_token ?? null,
      tokenBaseUrl: secret?.api_base_url ?? null,
      sessionId: start.work.data.id,
      now: Date.now(),
    });
    await this.ctx.storage.setAlarm(Date.now() + 1000);
    await this.#setup();
    const row = this.#store.load();
    if (!row) throw new Error("the session runner lost its work");
    return runnerSummary(this.#store, row);
  }

  async stop(reason: string): Promise<void> {
    if (!this.#store.load()) return;
    await this.#end(reason, true);
  }

  async rotateKey(environmentKey: string): Promise<void> {
    if (environmentKey.length === 0) throw new TetherError("bad_request", "the environment key is empty");
    if (this.#store.load()) this.#store.setKey(environmentKey);
  }

  summary(): RunnerSummary | null {
    const row = this.#store.load();
    return row ? runnerSummary(this.#store, row) : null;
  }

  details(): RunnerDetails | null {
    const row = this.#store.load();
    return row ? runnerDetails(this.#store, row, this.#resources.view()) : null;
  }

  /**
   * Tests only: resets the object as the platform does on a restart (a deploy, a crash) with the
   * work's calls in flight: memory is lost, storage and the alarm are kept. (Miniflare's eviction
   * waits for in-flight I/O, which a runner always has.) No route reaches it: only a test Worker
   * bound to this class calls it.
   */
  resetForTest(): void {
    this.ctx.abort("session runner reset by a test");
  }

  override async alarm(): Promise<void> {
    const row = this.#store.load();
    if (!row) return;
    if (row.state === "ending" || row.state === "ended") return this.#finish();
    const now = Date.now();
    if (row.idle_deadline !== null && now >= row.idle_deadline) return this.#end("end_turn idle", true);
    if (row.last_heartbeat !== null && now >= nextBeatAt(row) && !(await this.#beat())) return;
    if (row.state === "starting" && !this.#setupRunning) void this.#setup();
    if (row.state === "running") this.#follow();
    if (row.state === "running") this.#resources.tick(this.#access);
    await this.#schedule();
  }

  // ---- internals ----

  get #api(): WorkApi {
    const row = this.#store.load();
    if (!row) throw new Error("the session runner holds no work");
    const environment = this.#store.environment(row);
    return new WorkApi(() => this.#store.credentials(), {
      environmentId: environment.environmentId,
      workId: row.work_id,
      sessionId: row.session_id,
    });
  }

  /** The session's sandbox and the work's credentials, for its skills and memory. */
  get #access() {
    return resourceAccess(this.env, this.#store, this.#work.signal);
  }

  /**
   * Ack, first beat (unless one landed before an eviction), sandbox, session, resources; then
   * follow. Resolves once the lease is held (or the work is over): the rest goes on in the
   * background, so the environment's claim does not wait for the sandbox and the downloads.
   */
  #setup(): Promise<void> {
    this.#setupRunning = true;
    let leased = () => {};
    const lease = new Promise<void>((resolve) => {
      leased = resolve;
    });
    void this.#runSetup(leased).finally(() => {
      this.#setupRunning = false;
      leased();
    });
    return lease;
  }

  async #runSetup(leased: () => void): Promise<void> {
    const signal = this.#work.signal;
    try {
      const api = this.#api;
      if (this.#store.load()?.last_heartbeat === null) {
        await api.ack(signal);
        if (!(await this.#beat())) return;
        // No lease without a first beat (its retries took the whole interval): give the work up.
        if (this.#store.load()?.last_heartbeat === null) throw new Error("the first heartbeat failed");
      }
      leased();
      const row = this.#store.load();
      if (row?.state !== "starting") return;
      await ensureSessionSandbox(this.env, this.#store.environment(row), row.session_id);
      const session = await api.session(signal);
      const extraRoots = await this.#resources.prepare(session, this.#access);
      if (signal.aborted) return;
      this.#store.setupDone(extraRoots);
      this.#follow();
    } catch (error) {
      if (!signal.aborted) await this.#failed(error);
    }
  }

  /** Starts following the session's events in this instance (after an eviction: again). */
  #follow(): void {
    const row = this.#store.load();
    if (this.#live || !row || row.state !== "running") return;
    recoverInterruptedCalls(this.#store);
    const signal = this.#work.signal;
    const api = this.#api;
    const calls = new CallProcessor({
      store: this.#store,
      api,
      sandbox: sessionSandbox(this.env, row.session_id),
      extraRoots: this.#store.extraRoots(row),
      session: row.session_id,
      signal,
      onRefused: (error) => void this.#failed(error),
    });
    this.#live = calls;
    const sink = {
      history: (events: SessionEvent[]) => {
        for (const event of events) this.#apply(event);
        calls.kick();
      },
      event: (event: SessionEvent) => {
        this.#apply(event);
        calls.kick();
      },
      error: (message: string) => this.#store.recordError(message),
    };
    followEvents(api, sink, signal).catch((error) => this.#failed(error));
  }

  #apply(event: SessionEvent): void {
    if (this.#work.signal.aborted) return;
    if (event.id !== undefined) {
      if (this.#seen.has(event.id)) return;
      if (this.#seen.size >= MAX_SEEN_EVENTS) this.#seen.clear();
      this.#seen.add(event.id);
    }
    const before = this.#store.load()?.idle_deadline;
    const effect = applySessionEvent(this.#store, event, Date.now());
    if (effect.kind === "end") void this.#end(effect.reason, true);
    else if (this.#store.load()?.idle_deadline !== before) void this.#schedule();
  }

  /** One heartbeat; false when the work is over (the ending has begun). */
  async #beat(): Promise<boolean> {
    const row = this.#store.load();
    if (this.#beating || !row) return true;
    this.#beating = true;
    try {
      const outcome = await heartbeat(this.#store, this.#api, row);
      if (outcome.kind === "refused" || outcome.kind === "over") this.#resources.leaseLost();
      if (outcome.kind === "refused") {
        await this.#failed(outcome.error);
        return false;
      }
      if (outcome.kind === "over") {
        await this.#end(outcome.reason, outcome.forceStop);
        return false;
      }
      return true;
    } finally {
      this.#beating = false;
    }
  }

  /** A failure that ends the work: the environment hears of refused credentials (401/403). */
  async #failed(error: unknown): Promise<void> {
    if (error instanceof ApiError && error.credentialsRefused) {
      const row = this.#store.load();
      const kind = credentialKind(this.#store.credentials(), error.path);
      const message = `${error.status} from ${error.path}: ${kind} was refused (${error.apiMessage})`;
      this.#store.recordError(message);
      const environment = row ? this.#environment(this.#store.environment(row).name) : null;
      await environment?.credentialsRefused(error.status, message).catch(() => {});
      return this.#end("credentials refused", false);
    }
    const message = error instanceof Error ? error.message : String(error);
    this.#store.recordError(message);
    await this.#end(`failed: ${message}`, true);
  }

  /** Ends the work: nothing more runs or is posted; then the stop and the report (`#finish`). */
  async #end(reason: string, forceStop: boolean): Promise<void> {
    this.#store.beginEnding(reason, forceStop);
    this.#work.abort(new Error(`the work ended: ${reason}`));
    this.#store.abandonAll();
    await this.#finish();
  }

  /** Force-stops the work (unless the lease was lost) and reports to the environment; resumable. */
  #finish(): Promise<void> {
    this.#finishing ??= this.#finishOnce().finally(() => {
      this.#finishing = undefined;
    });
    return this.#finishing;
  }

  async #finishOnce(): Promise<void> {
    const row = this.#store.load();
    // Before the force-stop; once the lease was lost nothing more is pushed.
    if (row?.state === "ending") await this.#resources.release(row.force_stop === 1, this.#access);
    return finishEnding({
      store: this.#store,
      api: () => this.#api,
      environment: (name) => this.#environment(name),
      retryLater: () => this.ctx.storage.setAlarm(Date.now() + REPORT_RETRY_MS),
      done: () => this.ctx.storage.deleteAlarm(),
    });
  }

  #environment(name: string) {
    return this.env.MANAGED_ENVIRONMENT.get(this.env.MANAGED_ENVIRONMENT.idFromName(name));
  }

  /** The next alarm: the next beat, memory sync or the idle exit, whichever comes first. */
  async #schedule(): Promise<void> {
    const row = this.#store.load();
    if (row?.state === "starting" || row?.state === "running") {
      await this.ctx.storage.setAlarm(this.#resources.nextAlarmAt(nextAlarmAt(row)));
    }
  }
}

import { DurableObject } from "cloudflare:workers";
import { type RpcResult, settle } from "../src/errors/rpc-result.ts";
import { TetherError } from "../src/errors/tether-error.ts";
import { ApiError } from "../src/managed-agents/api-client.ts";
import type { CreateEnvironmentRequest, UpdateEnvironmentRequest } from "../src/managed-agents/environment-config.ts";
import type { Work } from "../src/managed-agents/protocol.ts";
import {
  type EnvironmentRunnerRpc,
  type RunnerDetails,
  type RunnerSummary,
  runnerName,
} from "../src/managed-agents/runner-contract.ts";
import type { Env } from "../workers/env.ts";
import { checkRequest, createdConfig, updatedConfig } from "./managed-environment/config-change.ts";
import { DRAIN_BLOCK_MS, nextPollDelay, POLL_BLOCK_MS, type PollOutcome } from "./managed-environment/poll-schedule.ts";
import { EnvironmentStore, type StoredConfig } from "./managed-environment/store.ts";
import {
  type EnvironmentDetailView,
  type EnvironmentView,
  environmentView,
  sessionView,
} from "./managed-environment/view.ts";
import {
  type DeliveryHeaders,
  parsePayload,
  RUN_STARTED,
  verifyDelivery,
} from "./managed-environment/webhook-intake.ts";
import { describeFailure, pollWork } from "./managed-environment/work-poll.ts";

/** What a webhook delivery is answered (the same answer again for a replayed `webhook-id`). */
export interface WebhookAnswer {
  received: true;
  event_id: string;
  action: "drain" | "ignored";
}

/**
 * One Managed Agents environment (named by its name): configuration, webhook, polling, live
 * sessions. Storage layout: ./managed-environment/store.ts.
 *
 * Lifecycle: `configure` stores the environment and arms the alarm at once. Every poll happens in
 * `alarm()`, one poll per alarm, so polls never overlap; each schedules the next
 * (./managed-environment/poll-schedule.ts). A verified `session.status_run_started` webhook, a
 * runner ending, or an update re-arms the alarm for now. At `max_sessions` live sessions no alarm
 * is armed: work stays queued at the API, unacknowledged, until `runnerEnded` frees a place.
 * Each claimed session item starts the runner named `runnerName(name, work.id)` and is recorded
 * live until that runner reports `runnerEnded`. Other work kinds (the SDK's `healthcheck`) are
 * skipped as the protocol says: not acknowledged, so the API hands them out again after its
 * reclaim time. `remove` drops the configuration first (an alarm or poll in flight sees it gone and
 * stops there), stops every live runner, then deletes all storage and the alarm.
 */
export class ManagedEnvironment extends DurableObject<Env> implements EnvironmentRunnerRpc {
  readonly #store: EnvironmentStore;
  /** Set when something asked for a poll while the alarm was running: the next one is then at once. */
  #wakeRequested = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new EnvironmentStore(ctx.storage.sql);
  }

  configure(request: CreateEnvironmentRequest): Promise<RpcResult<EnvironmentView>> {
    return settle(async () => {
      await checkRequest(request);
      if (this.#store.config()) throw new TetherError("conflict", `environment "${request.name}" already exists`);
      const { config, secrets } = createdConfig(request, Date.now());
      this.#store.saveSecrets(secrets);
      this.#store.saveConfig(config);
      await this.#wake();
      return this.#view(config);
    });
  }

  update(patch: UpdateEnvironmentRequest): Promise<RpcResult<EnvironmentView>> {
    return settle(async () => {
      await checkRequest(patch);
      const { config, secrets } = this.#require();
      const next = updatedConfig(config, secrets, patch, Date.now());
      this.#store.saveSecrets(next.secrets);
      this.#store.saveConfig(next.config);
      if (patch.environment_key !== undefined) {
        // A new key may heal refused credentials: poll again now instead of in a minute.
        this.#store.updateHealth({ unhealthy: false, consecutiveErrors: 0 });
        await Promise.allSettled(
          this.#store
            .liveSessions()
            .map((live) => this.#runner(config, live.workId).rotateKey(next.secrets.environmentKey)),
        );
      }
      await this.#wake();
      return this.#view(next.config);
    });
  }

  view(): Promise<RpcResult<EnvironmentDetailView>> {
    return settle(async () => {
      const { config } = this.#require();
      const live = this.#store.liveSessions();
      const summaries = await Promise.all(
        live.map((session) =>
          Promise.resolve(this.#runner(config, session.workId).summary()).catch((): RunnerSummary | null => null),
        ),
      );
      return {
        ...this.#view(config),
        sessions: live.map((session, i) => sessionView(session, summaries[i] ?? null)),
      };
    });
  }

  summary(): Promise<RpcResult<EnvironmentView>> {
    return settle(() => this.#view(this.#require().config));
  }

  sessionDetails(workId: string): Promise<RpcResult<RunnerDetails>> {
    return settle(async () => {
      const { config } = this.#require();
      const details = await this.#runner(config, workId).details();
      if (!details) throw new TetherError("not_found", `environment "${config.name}" has no session work ${workId}`);
      return details;
    });
  }

  remove(): Promise<RpcResult<{ name: string; deleted: true; stopped_sessions: number }>> {
    return settle(async () => {
      const { config } = this.#require();
      // Without the configuration an alarm in flight stops at its next step and arms nothing.
      this.#store.deleteConfig();
      await this.ctx.storage.deleteAlarm();
      const live = this.#store.liveSessions();
      await Promise.allSettled(live.map((session) => this.#runner(config, session.workId).stop("environment deleted")));
      await this.ctx.storage.deleteAll();
      // The object lives on (a later create or a stray call reaches it): its tables must exist.
      this.#store.ensureSchema();
      return { name: config.name, deleted: true as const, stopped_sessions: live.length };
    });
  }

  /** A webhook delivery (raw body): verified, deduplicated by `webhook-id`, then a drain if it asks for one. */
  webhook(headers: DeliveryHeaders, body: Uint8Array): Promise<RpcResult<WebhookAnswer>> {
    return settle(async () => {
      const id = await verifyDelivery(this.#store.secrets()?.webhookSecret ?? null, headers, body);
      const seen = this.#store.seenWebhook(id);
      if (seen !== null) return seen as WebhookAnswer;
      const payload = parsePayload(body);
      const answer: WebhookAnswer = {
        received: true,
        event_id: payload.id,
        action: payload.data.type === RUN_STARTED ? "drain" : "ignored",
      };
      const now = Date.now();
      this.#store.rememberWebhook(id, answer, now);
      this.#store.updateHealth({ lastWebhookAt: now });
      if (answer.action === "drain") await this.#wake();
      return answer;
    });
  }

  async runnerEnded(workId: string, _summary: RunnerSummary): Promise<void> {
    if (!this.#store.config()) return;
    if (this.#store.removeLive(workId)) await this.#wake();
  }

  async credentialsRefused(status: number, message: string): Promise<void> {
    if (!this.#store.config()) return;
    const secrets = this.#store.secrets();
    this.#store.updateHealth({
      unhealthy: true,
      lastApiError: describeFailure(new ApiError(status, "credentials_refused", message, ""), [
        secrets?.environmentKey ?? null,
        secrets?.webhookSecret ?? null,
      ]),
      lastApiErrorAt: Date.now(),
    });
  }

  override async alarm(): Promise<void> {
    this.#wakeRequested = false;
    const current = this.#current();
    if (!current || this.#atCapacity(current.config)) return;
    const { config, secrets } = current;
    const blockMs = config.mode === "webhook" ? DRAIN_BLOCK_MS : POLL_BLOCK_MS;
    let outcome: PollOutcome;
    try {
      const work = await pollWork(config, secrets.environmentKey, this.#workerId(config), blockMs);
      if (!this.#store.config()) return;
      this.#store.updateHealth({ lastPollAt: Date.now(), unhealthy: false, consecutiveErrors: 0 });
      outcome = work ? await this.#claim(config, work) : { kind: "empty" };
    } catch (error) {
      if (!this.#store.config()) return;
      outcome = this.#failed(config, error, [secrets.environmentKey, secrets.webhookSecret]);
    }
    const after = this.#current();
    if (!after || this.#atCapacity(after.config)) return;
    const delay = this.#wakeRequested ? 0 : nextPollDelay(after.config.mode, outcome);
    await this.ctx.storage.setAlarm(Date.now() + delay);
  }

  async #claim(config: StoredConfig, work: Work): Promise<PollOutcome> {
    if (work.data.type !== "session") {
      console.log(`environment ${config.name}: skipped work ${work.id} of kind ${work.data.data_type}`);
      return { kind: "claimed" };
    }
    if (this.#store.isLive(work.id)) return { kind: "claimed" };
    // The key as stored now: an update may have rotated it while the poll was waiting.
    const environmentKey = this.#store.secrets()?.environmentKey;
    if (environmentKey === undefined) return { kind: "claimed" };
    // Counted before the runner starts, so capacity holds even while it acknowledges.
    this.#store.addLive({ workId: work.id, sessionId: work.data.id, startedAt: Date.now() });
    try {
      const summary = await this.#runner(config, work.id).start({
        environment: stripped(config),
        environmentKey,
        work,
      });
      // A runner that already ended (for an earlier hand-out of this item) will not report again.
      if (summary.state === "ended") this.#store.removeLive(work.id);
      return { kind: "claimed" };
    } catch (error) {
      // Not acknowledged: the API hands the item out again after its reclaim time.
      this.#store.removeLive(work.id);
      return this.#failed(config, error, [environmentKey]);
    }
  }

  #failed(config: StoredConfig, error: unknown, secrets: readonly (string | null)[]): PollOutcome {
    const refused = error instanceof ApiError && error.credentialsRefused;
    const health = this.#store.updateHealth({
      lastApiError: describeFailure(error, secrets),
      lastApiErrorAt: Date.now(),
      ...(refused ? { unhealthy: true } : {}),
      consecutiveErrors: this.#store.health().consecutiveErrors + 1,
    });
    console.warn(`environment ${config.name}: ${health.lastApiError}`);
    if (refused) return { kind: "credentials_refused" };
    const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : undefined;
    return {
      kind: "error",
      consecutiveErrors: health.consecutiveErrors,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }

  /** Polls as soon as possible (the alarm at once; if it is running, its successor at once). */
  async #wake(): Promise<void> {
    this.#wakeRequested = true;
    await this.ctx.storage.setAlarm(Date.now());
  }

  #atCapacity(config: StoredConfig): boolean {
    return this.#store.liveCount() >= config.maxSessions;
  }

  #current() {
    const config = this.#store.config();
    const secrets = this.#store.secrets();
    return config && secrets ? { config, secrets } : null;
  }

  #require() {
    const current = this.#current();
    if (!current) throw environmentNotFound();
    return current;
  }

  #view(config: StoredConfig): EnvironmentView {
    return environmentView(config, this.#store.health(), {
      workerId: this.#workerId(config),
      webhookSecretSet: (this.#store.secrets()?.webhookSecret ?? null) !== null,
      liveSessions: this.#store.liveCount(),
    });
  }

  /** Stable for this environment's object (the API counts pollers by it). */
  #workerId(config: StoredConfig): string {
    return `tether-${config.name}-${this.ctx.id.toString().slice(0, 12)}`;
  }

  #runner(config: StoredConfig, workId: string) {
    return this.env.SESSION_RUNNER.get(this.env.SESSION_RUNNER.idFromName(runnerName(config.name, workId)));
  }
}

export function environmentNotFound(): TetherError {
  return new TetherError("not_found", "no such environment");
}

/** The configuration a runner gets: without the bookkeeping times. */
function stripped({ createdAt: _c, updatedAt: _u, ...config }: StoredConfig) {
  return config;
}

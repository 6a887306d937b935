/**
 * What operators see of an environment (the admin API's answers): its configuration, health and
 * live sessions. Built from the stored documents minus the secrets document, so no view can carry
 * the environment key or the webhook secret (only whether a webhook secret is set).
 */
import type { RunnerSummary } from "../../src/managed-agents/runner-contract.ts";
import type { EnvironmentHealth, StoredConfig } from "./store.ts";

export interface EnvironmentView {
  name: string;
  environment_id: string;
  api_base_url: string;
  mode: StoredConfig["mode"];
  backend: StoredConfig["backend"];
  max_sessions: number;
  sandbox: StoredConfig["sandbox"];
  webhook_secret_set: boolean;
  /** `Anthropic-Worker-ID` of this environment's polls. */
  worker_id: string;
  created_at: string;
  updated_at: string;
  health: {
    last_poll_at: string | null;
    last_webhook_at: string | null;
    last_api_error: string | null;
    last_api_error_at: string | null;
    unhealthy: boolean;
  };
  live_sessions: number;
}

/** One live session as listed in the detail view (from its runner's summary). */
export interface SessionView {
  work_id: string;
  session_id: string;
  state: RunnerSummary["state"] | "unknown";
  lease: RunnerSummary["lease"] | null;
  tool_calls_answered: number;
  pending_confirmations: number;
  last_error: string | null;
  started_at: string;
}

export interface EnvironmentDetailView extends EnvironmentView {
  sessions: SessionView[];
}

export function environmentView(
  config: StoredConfig,
  health: EnvironmentHealth,
  extra: { workerId: string; webhookSecretSet: boolean; liveSessions: number },
): EnvironmentView {
  return {
    name: config.name,
    environment_id: config.environmentId,
    api_base_url: config.apiBaseUrl,
    mode: config.mode,
    backend: config.backend,
    max_sessions: config.maxSessions,
    sandbox: config.sandbox,
    webhook_secret_set: extra.webhookSecretSet,
    worker_id: extra.workerId,
    created_at: iso(config.createdAt),
    updated_at: iso(config.updatedAt),
    health: {
      last_poll_at: isoOrNull(health.lastPollAt),
      last_webhook_at: isoOrNull(health.lastWebhookAt),
      last_api_error: health.lastApiError,
      last_api_error_at: isoOrNull(health.lastApiErrorAt),
      unhealthy: health.unhealthy,
    },
    live_sessions: extra.liveSessions,
  };
}

/** A live session; `summary` is null when its runner could not be asked (it is then `unknown`). */
export function sessionView(
  live: { workId: string; sessionId: string; startedAt: number },
  summary: RunnerSummary | null,
): SessionView {
  return {
    work_id: live.workId,
    session_id: live.sessionId,
    state: summary?.state ?? "unknown",
    lease: summary?.lease ?? null,
    tool_calls_answered: summary?.toolCallsAnswered ?? 0,
    pending_confirmations: summary?.pendingConfirmations ?? 0,
    last_error: summary?.lastError ?? null,
    started_at: iso(live.startedAt),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

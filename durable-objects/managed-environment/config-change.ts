/**
 * Turning validated admin requests into the stored configuration and secrets: defaults applied on
 * create, fields merged on update, and the cross-field rules the schemas cannot see (webhook mode
 * needs a webhook secret, stored or given; the secret must decode to a usable key).
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import {
  type CreateEnvironmentRequest,
  DEFAULT_API_BASE_URL,
  DEFAULT_MAX_SESSIONS,
  type EnvironmentSecrets,
  type UpdateEnvironmentRequest,
} from "../../src/managed-agents/environment-config.ts";
import { importWebhookSecret } from "../../src/managed-agents/webhook-signature.ts";
import type { StoredConfig } from "./store.ts";

/**
 * The checks that need WebCrypto (asynchronous). Run before reading the stored state, so the read,
 * the merge and the write that follow happen with no await between them (no other call interleaves).
 */
export async function checkRequest(request: CreateEnvironmentRequest | UpdateEnvironmentRequest): Promise<void> {
  if ("backend" in request && request.backend?.type === "gateway") throw gatewayBackendRefused();
  if (request.webhook_secret !== undefined) await checkWebhookSecret(request.webhook_secret);
}

export function createdConfig(
  request: CreateEnvironmentRequest,
  now: number,
): { config: StoredConfig; secrets: EnvironmentSecrets } {
  return {
    config: {
      name: request.name,
      environmentId: request.environment_id,
      apiBaseUrl: request.api_base_url ?? DEFAULT_API_BASE_URL,
      mode: request.mode,
      backend: request.backend ?? { type: "edge" },
      maxSessions: request.max_sessions ?? DEFAULT_MAX_SESSIONS,
      sandbox: request.sandbox ?? {},
      createdAt: now,
      updatedAt: now,
    },
    secrets: { environmentKey: request.environment_key, webhookSecret: request.webhook_secret ?? null },
  };
}

export function updatedConfig(
  config: StoredConfig,
  secrets: EnvironmentSecrets,
  patch: UpdateEnvironmentRequest,
  now: number,
): { config: StoredConfig; secrets: EnvironmentSecrets } {
  const next: EnvironmentSecrets = {
    environmentKey: patch.environment_key ?? secrets.environmentKey,
    webhookSecret: patch.webhook_secret ?? secrets.webhookSecret,
  };
  const mode = patch.mode ?? config.mode;
  if (mode === "webhook" && next.webhookSecret === null) {
    throw new TetherError(
      "bad_request",
      "invalid environment update: webhook_secret: webhook mode needs webhook_secret (none is stored)",
    );
  }
  return {
    config: {
      ...config,
      apiBaseUrl: patch.api_base_url ?? config.apiBaseUrl,
      mode,
      maxSessions: patch.max_sessions ?? config.maxSessions,
      sandbox: patch.sandbox ?? config.sandbox,
      updatedAt: now,
    },
    secrets: next,
  };
}

/** The schema accepts a gateway backend (its shape is settled); running sandboxes there is not. */
export function gatewayBackendRefused(): TetherError {
  return new TetherError(
    "bad_request",
    'invalid environment: backend: sandboxes on a gateway executor are not available yet; use {"type":"edge"}',
  );
}

/** A secret the schema accepts may still not decode to a 24–64 byte key: refused (never echoed). */
async function checkWebhookSecret(secret: string): Promise<void> {
  try {
    await importWebhookSecret(secret);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unusable";
    throw new TetherError("bad_request", `invalid environment: webhook_secret: ${reason}`);
  }
}

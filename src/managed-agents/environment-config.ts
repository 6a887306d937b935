/**
 * A Managed Agents environment as operators configure it (`/admin/environments`): which
 * self-hosted environment of Anthropic's API the edge works for, how it learns of work (webhook
 * or poll), where the sessions' sandboxes live and with which options.
 *
 * The environment key and the webhook secret are write-only: they are accepted here and stored by
 * the environment's Durable Object, and no answer, log line, trace or error message ever carries
 * them (`EnvironmentConfig`, what everything else sees, has no field for them).
 */
import { z } from "zod";
import { CreateSandboxSchema, MAX_TTL_SECONDS } from "../../durable-objects/sandbox/options.ts";

/** An environment's name is its Durable Object's name and a URL path segment. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const EnvironmentNameSchema = z
  .string()
  .regex(ENVIRONMENT_NAME_PATTERN, "name must be 1-63 of a-z, 0-9, _ and - (starting with a letter or digit)");

export const DEFAULT_API_BASE_URL = "https://api.anthropic.com";
/** Sessions one environment runs at once unless the operator chooses. */
export const DEFAULT_MAX_SESSIONS = 16;
export const MAX_MAX_SESSIONS = 256;
/** How long a session's sandbox is kept after the session ends, unless the operator chooses: 1 hour. */
export const DEFAULT_SESSION_SANDBOX_TTL_SECONDS = 3600;

export const EnvironmentModeSchema = z.enum(["webhook", "poll"]);
export type EnvironmentMode = z.infer<typeof EnvironmentModeSchema>;

/** Where a session's sandbox lives: at the edge, or (later) on a gateway's executor. */
export const SandboxBackendSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("edge") }).strict(),
  z.object({ type: z.literal("gateway"), tunnel: z.string().min(1), executor: z.string().min(1) }).strict(),
]);
export type SandboxBackend = z.infer<typeof SandboxBackendSchema>;

/** Per-session sandbox options: the sandbox API's own fields, plus the TTL kept after the session ends. */
export const SessionSandboxOptionsSchema = z
  .object({
    ttl_seconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
    quota_bytes: CreateSandboxSchema.shape.quota_bytes,
    env: CreateSandboxSchema.shape.env,
    network: CreateSandboxSchema.shape.network,
  })
  .strict();
export type SessionSandboxOptions = z.infer<typeof SessionSandboxOptionsSchema>;

/** `sk-ant-oat01-…` in production; any bearer-safe token is accepted (the stand-in mints its own). */
const EnvironmentKeySchema = z
  .string()
  .min(8, "environment_key is too short")
  .max(512)
  .regex(/^[\x21-\x7e]+$/, "environment_key must be printable ASCII without spaces");
/** Standard Webhooks secret: `whsec_` and base64 of the key. */
const WebhookSecretSchema = z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "webhook_secret must look like whsec_…");

export const CreateEnvironmentSchema = z
  .object({
    name: EnvironmentNameSchema,
    environment_id: z.string().min(1).max(128),
    environment_key: EnvironmentKeySchema,
    api_base_url: z.url({ protocol: /^https?$/ }).optional(),
    mode: EnvironmentModeSchema,
    webhook_secret: WebhookSecretSchema.optional(),
    backend: SandboxBackendSchema.optional(),
    max_sessions: z.number().int().min(1).max(MAX_MAX_SESSIONS).optional(),
    sandbox: SessionSandboxOptionsSchema.optional(),
  })
  .strict()
  .refine((body) => body.mode !== "webhook" || body.webhook_secret !== undefined, {
    message: "webhook mode needs webhook_secret (the signing secret Anthropic shows for the webhook)",
    path: ["webhook_secret"],
  });
export type CreateEnvironmentRequest = z.infer<typeof CreateEnvironmentSchema>;

/** PATCH: rotate the key or the webhook secret, change the mode, limits and sandbox options. */
export const UpdateEnvironmentSchema = z
  .object({
    environment_key: EnvironmentKeySchema.optional(),
    webhook_secret: WebhookSecretSchema.optional(),
    api_base_url: z.url({ protocol: /^https?$/ }).optional(),
    mode: EnvironmentModeSchema.optional(),
    max_sessions: z.number().int().min(1).max(MAX_MAX_SESSIONS).optional(),
    sandbox: SessionSandboxOptionsSchema.optional(),
  })
  .strict();
export type UpdateEnvironmentRequest = z.infer<typeof UpdateEnvironmentSchema>;

/** Everything about an environment that may be shown: no secret has a field here. */
export interface EnvironmentConfig {
  name: string;
  environmentId: string;
  apiBaseUrl: string;
  mode: EnvironmentMode;
  backend: SandboxBackend;
  maxSessions: number;
  sandbox: SessionSandboxOptions;
}

/** The write-only part, kept by the environment's Durable Object and handed only to its runners. */
export interface EnvironmentSecrets {
  environmentKey: string;
  webhookSecret: string | null;
}

/**
 * Wire shapes of Claude Managed Agents' self-hosted environment protocol (beta
 * `managed-agents-2026-04-01`), as the worker sees them: the work queue, leases, the work secret,
 * sessions, skills, memory stores and webhook payloads. Session events live in ./session-events.ts.
 * Schemas first, types derived; objects are loose (the API adds fields over time and the worker must
 * not break on them). Where the protocol leaves a shape unconfirmed, the comment says so.
 */
import { z } from "zod";
import { base64urlEncode } from "../auth/base64url.ts";
import { TetherError } from "../errors/tether-error.ts";

export * from "./session-events.ts";

/** `{type:"error", error:{type, message, details?}}`: every non-2xx answer. */
export const ApiErrorBodySchema = z.looseObject({
  type: z.literal("error"),
  error: z.looseObject({
    type: z.string(),
    message: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

// ---- work queue ---------------------------------------------------------------------------------

export const WorkStateSchema = z.enum(["queued", "starting", "active", "stopping", "stopped"]);
export type WorkState = z.infer<typeof WorkStateSchema>;

/**
 * What a work item is for. Only sessions are worked on; other kinds (the TypeScript SDK knows a
 * `healthcheck`) parse as `other` so the worker can skip them instead of failing the poll.
 */
export const WorkDataSchema = z.union([
  z.looseObject({ type: z.literal("session"), id: z.string().min(1) }),
  z
    .looseObject({ type: z.string().refine((type) => type !== "session") })
    .transform((data) => ({ type: "other" as const, data_type: data.type })),
]);
export type WorkData = z.infer<typeof WorkDataSchema>;

const Timestamp = z.nullish(z.string());

export const WorkSchema = z.looseObject({
  type: z.literal("work"),
  id: z.string().min(1),
  environment_id: z.string(),
  data: WorkDataSchema,
  state: WorkStateSchema,
  /** Base64url JSON (see decodeWorkSecret); null when the API hands out no per-work token. */
  secret: z.nullish(z.string()),
  metadata: z.nullish(z.record(z.string(), z.string())),
  created_at: Timestamp,
  acknowledged_at: Timestamp,
  started_at: Timestamp,
  latest_heartbeat_at: Timestamp,
  stop_requested_at: Timestamp,
  stopped_at: Timestamp,
});
export type Work = z.infer<typeof WorkSchema>;

/** A poll answers a work item or `null` when the queue is empty. */
export const PollResponseSchema = z.nullable(WorkSchema);

/** Query of `GET …/work/poll`: `block_ms` 1–999 (0 is refused), absent means no wait. */
export const PollQuerySchema = z.object({
  block_ms: z.optional(z.coerce.number().int().min(1).max(999)),
  /** Unacknowledged items older than this are handed out again (the API's default is 5000). */
  reclaim_older_than_ms: z.optional(z.coerce.number().int().min(0)),
});
export type PollQuery = z.infer<typeof PollQuerySchema>;

/** The first beat of a lease sends this instead of a previous `last_heartbeat`. */
export const NO_HEARTBEAT = "NO_HEARTBEAT";

/** Query (never a body) of `POST …/work/{id}/heartbeat`: compare-and-set on the last beat. */
export const HeartbeatQuerySchema = z.object({
  expected_last_heartbeat: z.string().min(1),
  desired_ttl_seconds: z.optional(z.coerce.number().int().min(1)),
});
export type HeartbeatQuery = z.infer<typeof HeartbeatQuerySchema>;

export const HeartbeatResponseSchema = z.looseObject({
  type: z.literal("work_heartbeat"),
  last_heartbeat: z.string(),
  lease_extended: z.boolean(),
  state: WorkStateSchema,
  ttl_seconds: z.number(),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

/** `error.details` of a 412 on heartbeat: the lease is lost. */
export const HeartbeatPreconditionDetailsSchema = z.looseObject({
  error_code: z.literal("heartbeat_precondition_failed"),
  current_state: z.looseObject({
    state: WorkStateSchema,
    last_heartbeat: z.nullable(z.string()),
    lease_updated_at: z.nullable(z.string()),
    lease_extended: z.boolean(),
    ttl_seconds: z.number(),
  }),
});
export type HeartbeatPreconditionDetails = z.infer<typeof HeartbeatPreconditionDetailsSchema>;

export const StopBodySchema = z.object({ force: z.optional(z.boolean()) });
export type StopBody = z.infer<typeof StopBodySchema>;

export const WorkQueueStatsSchema = z.looseObject({
  type: z.literal("work_queue_stats"),
  depth: z.number(),
  pending: z.number(),
  oldest_queued_at: z.nullable(z.string()),
  workers_polling: z.number(),
});
export type WorkQueueStats = z.infer<typeof WorkQueueStatsSchema>;

/** `{data, next_page}`: every list answer of the API. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.looseObject({ data: z.array(item), next_page: z.nullish(z.string()) });
}

// ---- the work secret ----------------------------------------------------------------------------

/** The decoded `secret`: a token for this item's calls, and possibly another API base URL. */
export const WorkSecretSchema = z.looseObject({
  sessions_token: z.string().min(1),
  api_base_url: z.optional(z.url({ protocol: /^https?$/ })),
});
export type WorkSecret = z.infer<typeof WorkSecretSchema>;

/** Decodes a work item's `secret` (base64url JSON, padding possibly missing). Never echoes it. */
export function decodeWorkSecret(secret: string): WorkSecret {
  let value: unknown;
  try {
    const base64 = secret.replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "="));
    value = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
  } catch {
    throw new TetherError("bad_request", "work secret is not base64url JSON");
  }
  const parsed = WorkSecretSchema.safeParse(value);
  if (!parsed.success) throw new TetherError("bad_request", "work secret has no valid sessions_token");
  return parsed.data;
}

/** The inverse of decodeWorkSecret, without padding (how the API sends it). */
export function encodeWorkSecret(secret: WorkSecret): string {
  return base64urlEncode(new TextEncoder().encode(JSON.stringify(secret)));
}

// ---- sessions, skills, memory stores ------------------------------------------------------------

export const SessionSkillSchema = z.looseObject({
  skill_id: z.string().min(1),
  /** A version id, or `latest` (resolved through the versions list). */
  version: z.string().min(1),
});

export const MemoryStoreResourceSchema = z.looseObject({
  type: z.literal("memory_store"),
  memory_store_id: z.string().min(1),
  access: z.optional(z.string()),
  mount_path: z.optional(z.string()),
});
export type MemoryStoreResource = z.infer<typeof MemoryStoreResourceSchema>;

/** Resources other than memory stores are not the worker's business; they parse as `other`. */
const SessionResourceSchema = z.union([
  MemoryStoreResourceSchema,
  z
    .looseObject({ type: z.string().refine((type) => type !== "memory_store") })
    .transform((resource) => ({ type: "other" as const, resource_type: resource.type })),
]);

/** `GET /v1/sessions/{id}`: the worker reads the agent's skills and the memory stores. */
export const SessionSchema = z.looseObject({
  type: z.optional(z.literal("session")),
  id: z.string().min(1),
  agent: z.looseObject({ skills: z.optional(z.array(SessionSkillSchema)) }),
  resources: z.optional(z.array(SessionResourceSchema)),
});
export type Session = z.infer<typeof SessionSchema>;

/** One entry of `GET /v1/skills/{id}/versions` and the answer of `GET …/versions/{v}`. */
export const SkillVersionSchema = z.looseObject({
  type: z.optional(z.literal("skill_version")),
  skill_id: z.optional(z.string()),
  version: z.string().min(1),
  /** The directory the skill is extracted to (its basename). */
  name: z.string().min(1),
  created_at: z.optional(z.string()),
});
export type SkillVersion = z.infer<typeof SkillVersionSchema>;
export const SkillVersionListSchema = pageOf(SkillVersionSchema);

/**
 * One memory of a store (`/v1/memory_stores/{id}/memories[/{mid}]`). The protocol document names
 * only `content_sha256`; the other field names are the stand-in's reading (unconfirmed).
 */
export const MemorySchema = z.looseObject({
  type: z.optional(z.literal("memory")),
  id: z.string().min(1),
  memory_store_id: z.optional(z.string()),
  /** Path of the memory's file inside the store's mount. */
  path: z.string().min(1),
  content: z.optional(z.string()),
  content_sha256: z.string(),
  created_at: z.optional(z.string()),
  updated_at: z.optional(z.string()),
});
export type Memory = z.infer<typeof MemorySchema>;
export const MemoryListSchema = pageOf(MemorySchema);

export const MemoryCreateSchema = z.object({ path: z.string().min(1), content: z.string() });
export type MemoryCreate = z.infer<typeof MemoryCreateSchema>;

/** Update: `content_sha256`, when given, is the hash the caller last saw (a mismatch is refused). */
export const MemoryUpdateSchema = z.object({
  path: z.optional(z.string().min(1)),
  content: z.optional(z.string()),
  content_sha256: z.optional(z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256")),
});
export type MemoryUpdate = z.infer<typeof MemoryUpdateSchema>;

// ---- webhooks -----------------------------------------------------------------------------------

/** A webhook delivery: `session.status_run_started` carries the session, never a work id (so drain). */
export const WebhookPayloadSchema = z.looseObject({
  type: z.literal("event"),
  id: z.string().min(1),
  created_at: z.optional(z.string()),
  data: z.looseObject({
    type: z.string(),
    id: z.string().min(1),
    organization_id: z.optional(z.string()),
    workspace_id: z.optional(z.string()),
  }),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

import { z } from "zod";
import { type AuditSettings, MaxRowsSchema, RetentionDaysSchema } from "../../src/audit/retention.ts";
import { randomBase64url } from "../../src/auth/tokens.ts";
import { DEFAULT_SANDBOX_AUDIT } from "./trace.ts";

/**
 * What a caller may ask for when creating a sandbox (`POST /v1/sandboxes`), validated at the edge.
 * Limits are generous for agents and small enough that one create body stays cheap to hold.
 */

/** A sandbox id is also its Durable Object's name and a URL path segment: short and URL-safe. */
export const SANDBOX_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Inactivity before a sandbox is destroyed, unless the caller chooses: 24 hours. */
export const DEFAULT_TTL_SECONDS = 86_400;
export const MAX_TTL_SECONDS = 30 * 86_400;

/** Bytes a sandbox may store (file contents and symlink targets) unless the caller chooses: 256 MiB. */
export const DEFAULT_QUOTA_BYTES = 256 * 1024 * 1024;
export const MAX_QUOTA_BYTES = 1024 * 1024 * 1024;

/** Largest create body the edge reads (initial files travel in it): 8 MiB. */
export const MAX_CREATE_BODY_BYTES = 8 * 1024 * 1024;

export const SandboxIdSchema = z.string().regex(SANDBOX_ID_PATTERN, "id must match [A-Za-z0-9_-]{1,64}");

const EnvNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names must be shell variable names");

/** A tunnel name as the admin API accepts it (workers/routes/admin-tunnels.ts). */
const TunnelNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "tunnel names are [a-z0-9-], at most 63");
const ExecutorNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "executor names are [a-z0-9_-], at most 63");

/**
 * Where a sandbox runs: at the edge (a Durable Object's filesystem and just-bash, the default), or
 * on a gateway's executor: real bash and files on a machine behind tunnel `tunnel`.
 */
export const SandboxBackendSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("edge") }).strict(),
  z.object({ type: z.literal("gateway"), tunnel: TunnelNameSchema, executor: ExecutorNameSchema }).strict(),
]);
export type SandboxBackend = z.infer<typeof SandboxBackendSchema>;

/**
 * Options only an edge sandbox takes. On an executor the machine's disk bounds the workspace and
 * the executor's own configuration decides the network (`network` in the gateway's executor
 * config), so Tether has nothing to enforce there and refuses the options rather than ignore them.
 */
const EDGE_ONLY_OPTIONS = ["quota_bytes", "network"] as const;

const CreateSandboxObjectSchema = z
  .object({
    id: SandboxIdSchema.optional(),
    ttl_seconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
    quota_bytes: z.number().int().min(1024).max(MAX_QUOTA_BYTES).optional(),
    env: z.record(EnvNameSchema, z.string()).optional(),
    /** Initial files: path (absolute, or relative to /workspace) → UTF-8 content. */
    files: z.record(z.string().min(1), z.string()).optional(),
    network: z
      .object({ allow: z.array(z.string().min(1).max(253)).max(100) })
      .strict()
      .optional(),
    backend: SandboxBackendSchema.optional(),
    /**
     * The audit trail of its tool calls: kept `retention_days` and at most `max_rows` rows;
     * `payloads` (default true) stores each call's input and the start of its result, redacted.
     */
    audit: z
      .object({
        retention_days: RetentionDaysSchema.optional(),
        max_rows: MaxRowsSchema.optional(),
        payloads: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const CreateSandboxSchema = CreateSandboxObjectSchema.superRefine((request, ctx) => {
  if (request.backend?.type !== "gateway") return;
  for (const option of EDGE_ONLY_OPTIONS) {
    if (request[option] === undefined) continue;
    ctx.addIssue({
      code: "custom",
      path: [option],
      message: `a gateway sandbox does not take ${EDGE_ONLY_OPTIONS.join(" or ")}: its executor's machine bounds the disk and its executor configuration decides the network`,
    });
  }
});

export type CreateSandboxRequest = z.infer<typeof CreateSandboxSchema>;

/** The settings a sandbox keeps for its lifetime (ids and TTL resolved). */
export interface SandboxSettings {
  id: string;
  ttlSeconds: number;
  quotaBytes: number;
  env: Record<string, string>;
  files: Record<string, string>;
  networkAllow: string[];
  backend: SandboxBackend;
  /** Retention and payloads of the tool-call trail (durable-objects/sandbox/trace.ts). */
  audit?: AuditSettings;
}

export function resolveSettings(request: CreateSandboxRequest, generateId: () => string): SandboxSettings {
  return {
    id: request.id ?? generateId(),
    ttlSeconds: request.ttl_seconds ?? DEFAULT_TTL_SECONDS,
    quotaBytes: request.quota_bytes ?? DEFAULT_QUOTA_BYTES,
    env: request.env ?? {},
    files: request.files ?? {},
    networkAllow: request.network?.allow ?? [],
    backend: request.backend ?? { type: "edge" },
    audit: {
      retentionDays: request.audit?.retention_days ?? DEFAULT_SANDBOX_AUDIT.retentionDays,
      maxRows: request.audit?.max_rows ?? DEFAULT_SANDBOX_AUDIT.maxRows,
      payloads: request.audit?.payloads ?? DEFAULT_SANDBOX_AUDIT.payloads,
    },
  };
}

/** A fresh id when the caller gives none: `sb_` and 20 url-safe random characters. */
export function generateSandboxId(): string {
  return `sb_${randomBase64url(15)}`;
}

/**
 * Per-tunnel settings an operator may set at creation or later (PATCH). Stored as JSON in the
 * tunnel row; defaults fill anything missing so older rows keep working.
 */
import { z } from "zod";
import { AuditSettingsPatchSchema, auditSettingsSchema } from "../../src/audit/retention.ts";

export const DEFAULT_SSE_KEEPALIVE_MS = 15_000;

export const TunnelSettingsSchema = z.object({
  /**
   * Browser origins (scheme://host[:port]) allowed to call the agent endpoint besides the edge's
   * own origin. A request whose Origin header is anything else gets 403 (DNS-rebinding defence).
   */
  allowedOrigins: z
    .array(z.url().transform((url) => new URL(url).origin))
    .max(64)
    .default([]),
  /**
   * Idle time after which an SSE response gets a `: keep-alive` comment (between events only).
   * Cloudflare drops SSE streams idle for ~100 s, so the ceiling stays well below that.
   */
  sseKeepAliveMs: z.number().int().min(10).max(60_000).default(DEFAULT_SSE_KEEPALIVE_MS),
  /**
   * The audit trail of calls (./trace-store.ts): kept `retentionDays` and at most `maxRows` rows;
   * `payloads` also stores each call's arguments and the start of its result, redacted.
   */
  audit: auditSettingsSchema(false).prefault({}),
});
export type TunnelSettings = z.infer<typeof TunnelSettingsSchema>;

/** A change: only the given fields (of `audit` too) change, the rest stay as they are. */
export const TunnelSettingsPatchSchema = TunnelSettingsSchema.partial().extend({
  audit: AuditSettingsPatchSchema.optional(),
});
export type TunnelSettingsPatch = z.infer<typeof TunnelSettingsPatchSchema>;

export function parseStoredSettings(json: string): TunnelSettings {
  return TunnelSettingsSchema.parse(JSON.parse(json));
}

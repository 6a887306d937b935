/**
 * Per-tunnel settings an operator may set at creation or later (PATCH). Stored as JSON in the
 * tunnel row; defaults fill anything missing so older rows keep working.
 */
import { z } from "zod";

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
});
export type TunnelSettings = z.infer<typeof TunnelSettingsSchema>;

export const TunnelSettingsPatchSchema = TunnelSettingsSchema.partial();
export type TunnelSettingsPatch = z.infer<typeof TunnelSettingsPatchSchema>;

export function parseStoredSettings(json: string): TunnelSettings {
  return TunnelSettingsSchema.parse(JSON.parse(json));
}

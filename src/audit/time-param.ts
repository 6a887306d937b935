/**
 * A time in a query string (`since`, `until` of the audit's HTTP API and CLI): an ISO 8601 time
 * (`2026-12-01`, `2026-12-01T10:00:00Z`) or epoch milliseconds (`1764583200000`), as epoch ms.
 */
import { z } from "zod";
import { SessionQuerySchema, TraceQuerySchema } from "./trace-query.ts";

export const TimeParamSchema = z.string().transform((text, ctx) => {
  const ms = /^\d{1,16}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({
      code: "custom",
      message: `expected an ISO 8601 time (2026-12-01T10:00:00Z) or epoch milliseconds, got "${text.slice(0, 64)}"`,
    });
    return z.NEVER;
  }
  return ms;
});

/** The trace query as the admin API takes it: times also as ISO 8601; nothing unknown. */
export const TraceHttpQuerySchema = TraceQuerySchema.extend({
  since: TimeParamSchema.optional(),
  until: TimeParamSchema.optional(),
}).strict();

export const SessionHttpQuerySchema = SessionQuerySchema.strict();

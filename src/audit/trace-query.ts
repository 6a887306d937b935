/**
 * How operators page through recorded calls (the console's trace views, `tether inspect`): filters
 * plus id cursors. Ids grow with time, so `before` walks to older rows and `after` fetches what is
 * new since the last row seen (live updates).
 */
import { z } from "zod";

export const TRACE_PAGE_MAX = 500;

export const TraceQuerySchema = z.object({
  /** Tunnel traces: the upstream server name. */
  server: z.string().min(1).max(200).optional(),
  tool: z.string().min(1).max(200).optional(),
  /** `error`: a status of 400 or more, no answer at all, or an error text; `ok`: the rest. */
  status: z.enum(["ok", "error"]).optional(),
  /** Tunnel traces: the MCP session id. */
  session: z.string().min(1).max(200).optional(),
  before: z.coerce.number().int().min(1).optional(),
  after: z.coerce.number().int().min(0).optional(),
  /** Only rows at or after this time (epoch ms). */
  since: z.coerce.number().int().min(0).optional(),
  /** Only rows before this time (epoch ms). */
  until: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(TRACE_PAGE_MAX).default(50),
});
export type TraceQuery = z.infer<typeof TraceQuerySchema>;

/** Newest first. `next` is the `before` cursor of the following (older) page, null at the end. */
export interface Page<T> {
  rows: T[];
  next: number | string | null;
}

export const SessionQuerySchema = z.object({
  server: z.string().min(1).max(200).optional(),
  /** Opaque cursor from the previous page's `next`. */
  before: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(TRACE_PAGE_MAX).default(50),
});
export type SessionQuery = z.infer<typeof SessionQuerySchema>;

/**
 * How long the audit trail keeps rows, per tunnel (TunnelSettings.audit) and per sandbox (the
 * create request's `audit`). Rows older than `retentionDays` and beyond the newest `maxRows` are
 * pruned by the owning Durable Object's alarm (never on a call's path), so between two alarms a
 * busy object may briefly hold more. `payloads` stores each call's (redacted, bounded) arguments
 * and result: off by default for tunnels (other people's data crossing the tunnel), on for
 * sandboxes (an operator's own workspace; the console shows each call's input and result).
 */
import { z } from "zod";
import { all, run } from "../storage/sql.ts";

export const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_MAX_ROWS = 100_000;
export const MAX_RETENTION_DAYS = 3650;
export const MAX_MAX_ROWS = 10_000_000;
const DAY_MS = 86_400_000;

/** How often an object with audit rows prunes them (its alarm re-arms at most this far out). */
export const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** Once this share of `maxRows` was written since the last pruning, the object prunes soon... */
export const PRUNE_BACKLOG_SHARE = 0.1;
/** ...that is, within this long (not only hourly). */
export const PRUNE_SOON_MS = 1_000;

export const RetentionDaysSchema = z.number().int().min(1).max(MAX_RETENTION_DAYS);
export const MaxRowsSchema = z.number().int().min(10).max(MAX_MAX_ROWS);

export function auditSettingsSchema(payloadsByDefault: boolean) {
  return z
    .object({
      retentionDays: RetentionDaysSchema.default(DEFAULT_RETENTION_DAYS),
      maxRows: MaxRowsSchema.default(DEFAULT_MAX_ROWS),
      payloads: z.boolean().default(payloadsByDefault),
    })
    .strict();
}

/** A change to some of the settings (no defaults: what is missing stays as it was). */
export const AuditSettingsPatchSchema = z
  .object({
    retentionDays: RetentionDaysSchema.optional(),
    maxRows: MaxRowsSchema.optional(),
    payloads: z.boolean().optional(),
  })
  .strict();

export interface AuditSettings {
  retentionDays: number;
  maxRows: number;
  payloads: boolean;
}

export interface Pruned {
  byAge: number;
  byRows: number;
}

/**
 * Deletes rows of `table` (integer key `key`, time column `at`, both indexed) older than the
 * retention and beyond the newest `maxRows`. Both deletes walk an index, not the table.
 */
export function pruneTable(sql: SqlStorage, table: string, key: string, settings: AuditSettings, now: number): Pruned {
  const byAge = run(sql, `DELETE FROM ${table} WHERE at < ?`, now - settings.retentionDays * DAY_MS);
  const [edge] = all<{ k: number }>(
    sql,
    `SELECT ${key} AS k FROM ${table} ORDER BY ${key} DESC LIMIT 1 OFFSET ?`,
    settings.maxRows,
  );
  const byRows = edge ? run(sql, `DELETE FROM ${table} WHERE ${key} <= ?`, edge.k) : 0;
  return { byAge, byRows };
}

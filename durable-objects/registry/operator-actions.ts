/**
 * The operator actions of the audit trail (src/audit/operator-action.ts), in the Registry's
 * SQLite database:
 *
 *   operator_actions (id INTEGER PK, at, operator, action, tunnel, sandbox, target, detail JSON)
 *     indexed by time, tunnel and sandbox; kept OPERATOR_ACTION_RETENTION (30 days, 100,000 rows),
 *     pruned by the Registry's alarm.
 *
 * Written at once (not behind): actions are rare, and each must survive an eviction.
 */

import type { OperatorActionInput, OperatorActionName, OperatorActionRow } from "../../src/audit/operator-action.ts";
import { equals, type PageWindow, pageOf, type RowFilter } from "../../src/audit/paging.ts";
import {
  type AuditSettings,
  DEFAULT_MAX_ROWS,
  DEFAULT_RETENTION_DAYS,
  type Pruned,
  pruneTable,
} from "../../src/audit/retention.ts";
import type { Page } from "../../src/audit/trace-query.ts";
import { all, ensureSchema, first, type SqlValue } from "../../src/storage/sql.ts";

export const OPERATOR_ACTION_RETENTION: AuditSettings = {
  retentionDays: DEFAULT_RETENTION_DAYS,
  maxRows: DEFAULT_MAX_ROWS,
  payloads: false,
};

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS operator_actions (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, operator TEXT NOT NULL, action TEXT NOT NULL,
     tunnel TEXT, sandbox TEXT, target TEXT, detail TEXT)`,
  `CREATE INDEX IF NOT EXISTS operator_actions_by_at ON operator_actions (at)`,
  `CREATE INDEX IF NOT EXISTS operator_actions_by_tunnel ON operator_actions (tunnel, id)`,
  `CREATE INDEX IF NOT EXISTS operator_actions_by_sandbox ON operator_actions (sandbox, id)`,
];

export interface OperatorActionQuery extends PageWindow {
  tunnel?: string | undefined;
  sandbox?: string | undefined;
}

interface Row {
  id: number;
  at: number;
  operator: string;
  action: string;
  tunnel: string | null;
  sandbox: string | null;
  target: string | null;
  detail: string | null;
}

export class OperatorActionStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    ensureSchema(sql, SCHEMA);
  }

  record(operator: string, input: OperatorActionInput, at: number): OperatorActionRow {
    const detail = input.detail ? JSON.stringify(input.detail) : null;
    const [row] = all<{ id: number }>(
      this.#sql,
      `INSERT INTO operator_actions (at, operator, action, tunnel, sandbox, target, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      at,
      operator,
      input.action,
      input.tunnel ?? null,
      input.sandbox ?? null,
      input.target ?? null,
      detail,
    );
    return {
      id: row?.id ?? 0,
      at,
      operator,
      action: input.action,
      tunnel: input.tunnel ?? null,
      sandbox: input.sandbox ?? null,
      target: input.target ?? null,
      detail: input.detail ?? null,
    };
  }

  /** One page, newest first. */
  page(query: OperatorActionQuery): Page<OperatorActionRow> {
    const filters: RowFilter<OperatorActionRow>[] = [];
    if (query.tunnel !== undefined) filters.push(equals("tunnel", query.tunnel, (row) => row.tunnel));
    if (query.sandbox !== undefined) filters.push(equals("sandbox", query.sandbox, (row) => row.sandbox));
    return pageOf<OperatorActionRow>(
      { pending: [], stored: (where, params, limit) => this.#stored(where, params, limit) },
      filters,
      query,
    );
  }

  prune(now: number): Pruned {
    return pruneTable(this.#sql, "operator_actions", "id", OPERATOR_ACTION_RETENTION, now);
  }

  any(): boolean {
    return first(this.#sql, "SELECT 1 FROM operator_actions LIMIT 1") !== undefined;
  }

  #stored(where: string, params: SqlValue[], limit: number): OperatorActionRow[] {
    return all<Row>(
      this.#sql,
      `SELECT * FROM operator_actions ${where} ORDER BY id DESC LIMIT ?`,
      ...params,
      limit,
    ).map((row) => ({
      ...row,
      action: row.action as OperatorActionName,
      detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
    }));
  }
}

/**
 * One page of an audit trail, newest first, from a write-behind store: the rows still buffered in
 * memory (newer than any stored row) merged with the stored ones, so operators see every call at
 * once. Ids are the cursors (`before` pages to older rows, `after` asks what is new); one row more
 * than the page is read to know whether another page follows.
 */
import type { SqlValue } from "../storage/sql.ts";
import type { Page } from "./trace-query.ts";

/** A filter both as SQL (for stored rows) and as a predicate (for buffered ones). */
export interface RowFilter<T> {
  where: string;
  params: SqlValue[];
  matches(row: T): boolean;
}

export interface PageSource<T extends { id: number }> {
  /** Buffered rows, oldest first. */
  pending: readonly T[];
  /** Stored rows matching `where` (a clause, "" for none), newest first, at most `limit`. */
  stored(where: string, params: SqlValue[], limit: number): T[];
}

export interface PageWindow {
  before?: number | undefined;
  after?: number | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
}

export function pageOf<T extends { id: number; at: number }>(
  source: PageSource<T>,
  filters: RowFilter<T>[],
  window: PageWindow,
  /** The integer key column the ids are (the row's `id`). */
  key = "id",
): Page<T> {
  const all = [...filters, ...windowFilters<T>(window, key)];
  const want = window.limit + 1;
  const rows: T[] = [];
  for (let i = source.pending.length - 1; i >= 0 && rows.length < want; i--) {
    const row = source.pending[i] as T;
    if (all.every((filter) => filter.matches(row))) rows.push(row);
  }
  if (rows.length < want) {
    const where = all.length > 0 ? `WHERE ${all.map((filter) => `(${filter.where})`).join(" AND ")}` : "";
    rows.push(
      ...source.stored(
        where,
        all.flatMap((filter) => filter.params),
        want - rows.length,
      ),
    );
  }
  const page = rows.slice(0, window.limit);
  return { rows: page, next: rows.length > window.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Equality on a column (a missing value matches nothing). */
export function equals<T>(column: string, value: string, pick: (row: T) => string | null): RowFilter<T> {
  return { where: `${column} = ?`, params: [value], matches: (row) => pick(row) === value };
}

function windowFilters<T extends { id: number; at: number }>(window: PageWindow, key: string): RowFilter<T>[] {
  const filters: RowFilter<T>[] = [];
  const { before, after, since, until } = window;
  if (before !== undefined) filters.push({ where: `${key} < ?`, params: [before], matches: (row) => row.id < before });
  if (after !== undefined) filters.push({ where: `${key} > ?`, params: [after], matches: (row) => row.id > after });
  if (since !== undefined) filters.push({ where: "at >= ?", params: [since], matches: (row) => row.at >= since });
  if (until !== undefined) filters.push({ where: "at < ?", params: [until], matches: (row) => row.at < until });
  return filters;
}

/**
 * Small typed helpers over a Durable Object's SQLite storage (`ctx.storage.sql`).
 * Row types are asserted by the caller: the schema is ours and set up idempotently on wake.
 */
export type SqlValue = string | number | null | ArrayBuffer;

export function all<T>(sql: SqlStorage, query: string, ...params: SqlValue[]): T[] {
  return sql.exec(query, ...params).toArray() as T[];
}

export function first<T>(sql: SqlStorage, query: string, ...params: SqlValue[]): T | undefined {
  return all<T>(sql, query, ...params)[0];
}

export function run(sql: SqlStorage, query: string, ...params: SqlValue[]): number {
  return sql.exec(query, ...params).rowsWritten;
}

/** Runs each statement of an idempotent schema (CREATE … IF NOT EXISTS). */
export function ensureSchema(sql: SqlStorage, statements: readonly string[]): void {
  for (const statement of statements) sql.exec(statement);
}

/**
 * Adds columns an older database's `table` lacks (idempotent, run on wake with the schema). Only
 * nullable columns without defaults: rows written before keep NULL there.
 */
export function addMissingColumns(sql: SqlStorage, table: string, columns: Record<string, string>): void {
  const existing = new Set(
    all<{ name: string }>(sql, `SELECT name FROM pragma_table_info('${table}')`).map((c) => c.name),
  );
  for (const [name, type] of Object.entries(columns)) {
    if (!existing.has(name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
  }
}

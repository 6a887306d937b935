/** The tunnel row (see ./storage.ts): existence, name, creation time and settings. */
import { TetherError } from "../../src/errors/tether-error.ts";
import { first, run } from "../../src/storage/sql.ts";
import {
  parseStoredSettings,
  type TunnelSettings,
  type TunnelSettingsPatch,
  TunnelSettingsSchema,
} from "./settings.ts";
import { applySchema, hasTunnelSchema } from "./storage.ts";

export interface TunnelRow {
  name: string;
  createdAt: number;
  settings: TunnelSettings;
}

export class TunnelStore {
  readonly #sql: SqlStorage;
  /** Cached row; undefined = not read yet, null = no tunnel here. */
  #row: TunnelRow | null | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    if (hasTunnelSchema(sql)) applySchema(sql);
  }

  /** The tunnel, or null when this object holds none (never created, or deleted). */
  get(): TunnelRow | null {
    if (this.#row === undefined) {
      const row = hasTunnelSchema(this.#sql)
        ? first<{ name: string; created_at: number; settings: string }>(this.#sql, "SELECT * FROM tunnel")
        : undefined;
      this.#row = row
        ? { name: row.name, createdAt: row.created_at, settings: parseStoredSettings(row.settings) }
        : null;
    }
    return this.#row;
  }

  /** The tunnel, or the given error (callers choose 404 for operators, 401 for token holders). */
  require(orElse: () => TetherError): TunnelRow {
    const row = this.get();
    if (!row) throw orElse();
    return row;
  }

  create(name: string, settings: TunnelSettings): TunnelRow {
    if (this.get()) throw new TetherError("conflict", `tunnel "${name}" already exists`);
    applySchema(this.#sql);
    const row = { name, createdAt: Date.now(), settings };
    run(this.#sql, "INSERT INTO tunnel VALUES (?, ?, ?)", name, row.createdAt, JSON.stringify(settings));
    this.#row = row;
    return row;
  }

  updateSettings(patch: TunnelSettingsPatch): TunnelSettings {
    const row = this.require(() => new TetherError("not_found", "no such tunnel"));
    const settings = TunnelSettingsSchema.parse({
      ...row.settings,
      ...patch,
      audit: { ...row.settings.audit, ...patch.audit },
    });
    run(this.#sql, "UPDATE tunnel SET settings = ?", JSON.stringify(settings));
    this.#row = { ...row, settings };
    return settings;
  }

  /** Forget the cached row after the storage was wiped. */
  forget(): void {
    this.#row = undefined;
  }
}

import { DurableObject } from "cloudflare:workers";
import { all, ensureSchema, run } from "../src/storage/sql.ts";
import type { Env } from "../workers/env.ts";

/**
 * The one global index (addressed by the name "global"): which tunnels and sandboxes exist, so
 * operators can list them. Each tunnel and sandbox keeps its own state in its own Durable Object;
 * this only holds names.
 *
 * Storage: entries(kind, name, created_at) — kind is "tunnel" or "sandbox".
 */
export type RegistryKind = "tunnel" | "sandbox";

export interface RegistryEntry {
  name: string;
  createdAt: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS entries (
     kind TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
     PRIMARY KEY (kind, name))`,
];

export class Registry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureSchema(ctx.storage.sql, SCHEMA);
  }

  /** Adds a name; false when it already existed. */
  add(kind: RegistryKind, name: string): boolean {
    return run(this.ctx.storage.sql, "INSERT OR IGNORE INTO entries VALUES (?, ?, ?)", kind, name, Date.now()) > 0;
  }

  remove(kind: RegistryKind, name: string): boolean {
    return run(this.ctx.storage.sql, "DELETE FROM entries WHERE kind = ? AND name = ?", kind, name) > 0;
  }

  list(kind: RegistryKind): RegistryEntry[] {
    return all<{ name: string; created_at: number }>(
      this.ctx.storage.sql,
      "SELECT name, created_at FROM entries WHERE kind = ? ORDER BY name",
      kind,
    ).map((row) => ({ name: row.name, createdAt: row.created_at }));
  }
}

export function registry(env: Env): DurableObjectStub<Registry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName("global"));
}

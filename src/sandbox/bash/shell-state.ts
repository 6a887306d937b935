/**
 * What a shell session carries from one command to the next (just-bash starts every exec with a
 * fresh shell): the working directory, the exported variables, the shell functions and the last
 * exit status (`$?` at the start of the next command). Functions are kept as just-bash syntax trees
 * (plain JSON), which replay exactly; just-bash cannot print a function's source back.
 *
 * Not carried: unexported variables, arrays, aliases, `set`/`shopt` options, traps. A command that
 * ends the shell (`exit`, `set -e` tripping) or is stopped by a limit leaves the state as it was
 * before that command, apart from `$?`.
 *
 * Storage (SqlShellStateStore): one row `shell_state(id = 1, state TEXT)`, the state as JSON.
 *
 * Upgrades: the syntax trees are just-bash's internal format, so each state records the just-bash
 * version that wrote it (`just_bash`; package.json pins just-bash exactly, and a test keeps
 * JUST_BASH_VERSION equal to the installed one). A state written by another version (or before
 * versions were recorded) keeps its cwd, variables and `$?`, and drops its functions with a note
 * naming them: a tree replayed by an interpreter that reads it differently could run something
 * other than what was defined.
 */
import { z } from "zod";
import { ensureSchema, first, run } from "../../storage/sql.ts";
import { byteLength } from "../fs/encoding.ts";

export const SHELL_STATE_VERSION = 1;

/** The just-bash release this build runs (pinned in package.json); stamped on every saved state. */
export const JUST_BASH_VERSION = "3.4.2";

/** Largest state kept (JSON bytes); SQLite rows cap at 2 MB. Past it, functions are dropped first. */
export const MAX_STATE_BYTES = 1024 * 1024;

export const ShellStateSchema = z.object({
  version: z.literal(SHELL_STATE_VERSION),
  cwd: z.string().startsWith("/"),
  /** Exported variables, as the shell's environment. */
  env: z.record(z.string(), z.string()),
  /** Function name → its definition (a just-bash FunctionDef node). */
  functions: z.record(z.string(), z.unknown()),
  lastExitCode: z.number().int(),
  /** The just-bash version that wrote `functions`; absent in states saved before it was recorded. */
  just_bash: z.string().optional(),
});

export type ShellState = z.infer<typeof ShellStateSchema>;

export interface ShellStateStore {
  load(): ShellState | null;
  save(state: ShellState): void;
}

export function initialShellState(cwd: string, env: Record<string, string>): ShellState {
  return {
    version: SHELL_STATE_VERSION,
    cwd,
    env: { ...env },
    functions: {},
    lastExitCode: 0,
    just_bash: JUST_BASH_VERSION,
  };
}

/**
 * The state as this build may replay it: from the current just-bash version, unchanged; from any
 * other, without its functions, and a note saying which were dropped and why.
 */
export function adoptShellState(state: ShellState): { state: ShellState; note?: string } {
  if (state.just_bash === JUST_BASH_VERSION) return { state };
  const adopted = { ...state, functions: {}, just_bash: JUST_BASH_VERSION };
  const names = Object.keys(state.functions).sort();
  if (names.length === 0) return { state: adopted };
  const writer = state.just_bash ? `just-bash ${state.just_bash}` : "an earlier Tether release";
  return {
    state: adopted,
    note:
      `note: shell function${names.length === 1 ? "" : "s"} ${names.join(", ")} ` +
      `${names.length === 1 ? "was" : "were"} saved by ${writer} and ${names.length === 1 ? "is" : "are"} not kept ` +
      `after the upgrade to just-bash ${JUST_BASH_VERSION}; define ${names.length === 1 ? "it" : "them"} again`,
  };
}

/** Parses stored JSON; anything unreadable (or from another version) counts as no state. */
export function parseShellState(json: string): ShellState | null {
  try {
    const parsed = ShellStateSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes: skip counting small states.
  return json.length * 3 <= MAX_STATE_BYTES ? json.length : byteLength(json);
}

/**
 * Fits a state within MAX_STATE_BYTES, and says what had to be left out so the session can tell
 * the user instead of silently forgetting.
 */
export function fitShellState(state: ShellState): {
  state: ShellState;
  dropped: "nothing" | "functions" | "variables";
} {
  if (jsonBytes(state) <= MAX_STATE_BYTES) return { state, dropped: "nothing" };
  const withoutFunctions = { ...state, functions: {} };
  if (jsonBytes(withoutFunctions) <= MAX_STATE_BYTES) return { state: withoutFunctions, dropped: "functions" };
  return { state: { ...withoutFunctions, env: {} }, dropped: "variables" };
}

const SCHEMA = ["CREATE TABLE IF NOT EXISTS shell_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)"];

/**
 * Keeps the state in the Durable Object's SQLite storage, so it survives eviction. The row is read
 * once per wake and then served from memory (this store is its only writer), and a state equal
 * to the stored one is not written again: most commands change nothing the shell carries, and a
 * write would hold the call's answer until it reached disk.
 */
export class SqlShellStateStore implements ShellStateStore {
  private readonly sql: SqlStorage;
  /** The stored row's JSON, its parsed state and (once asked) its size; undefined until first read. */
  private stored: { json: string | null; state: ShellState | null; bytes?: number } | undefined;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    // Only when missing: on every wake a schema statement, even a no-op one, would be a write (the
    // object's next answer waits for its commit); a lookup is a read.
    if (!first(sql, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'shell_state'")) {
      ensureSchema(sql, SCHEMA);
    }
  }

  load(): ShellState | null {
    if (!this.stored) {
      const json = first<{ state: string }>(this.sql, "SELECT state FROM shell_state WHERE id = 1")?.state ?? null;
      this.stored = { json, state: json === null ? null : parseShellState(json) };
    }
    return this.stored.state;
  }

  /** Bytes of the stored row (counted toward the sandbox's quota; asked on every file write). */
  storedBytes(): number {
    this.load();
    if (this.stored && this.stored.bytes === undefined) this.stored.bytes = byteLength(this.stored.json ?? "");
    return this.stored?.bytes ?? 0;
  }

  save(state: ShellState): void {
    const fitted = fitShellState({ ...state, just_bash: JUST_BASH_VERSION }).state;
    const json = JSON.stringify(fitted);
    if (json === this.stored?.json) return;
    run(this.sql, "INSERT OR REPLACE INTO shell_state (id, state) VALUES (1, ?)", json);
    this.stored = { json, state: fitted };
  }
}

/** Keeps the state in memory (tests, and sessions that need no persistence). */
export class MemoryShellStateStore implements ShellStateStore {
  private json: string | null = null;

  load(): ShellState | null {
    return this.json === null ? null : parseShellState(this.json);
  }

  save(state: ShellState): void {
    this.json = JSON.stringify(fitShellState({ ...state, just_bash: JUST_BASH_VERSION }).state);
  }
}

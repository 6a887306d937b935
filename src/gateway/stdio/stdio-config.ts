/**
 * Configuration of one stdio MCP server, as the gateway reads it from flags or a config file.
 * The command is spawned directly (no shell); `env` is added to a minimal inherited environment.
 */
import * as z from "../../protocol/zod-mini.ts";

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
export const DEFAULT_MAX_CHILDREN = 32;
/** Time a child gets between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 2_000;

/** Strict: an unknown key (a typo such as "arg") is an error, not silently ignored. */
export const StdioServerConfigSchema = z.strictObject({
  command: z.string().check(z.minLength(1)),
  args: z._default(z.array(z.string()), []),
  env: z.optional(z.record(z.string(), z.string())),
  cwd: z.optional(z.string().check(z.minLength(1))),
  /** A session with nothing in flight for this long loses its child. */
  idleTimeoutMs: z._default(z.int().check(z.positive()), DEFAULT_IDLE_TIMEOUT_MS),
  /** Concurrent sessions (= children); one more initialize gets 503. */
  maxChildren: z._default(z.int().check(z.positive()), DEFAULT_MAX_CHILDREN),
  /** Events per session kept for clients resuming a broken stream with Last-Event-ID (default 1,000). */
  replayMaxEvents: z.optional(z.int().check(z.positive())),
  /** Bytes (JSON of the kept messages) per session kept for resuming clients (default 4 MiB). */
  replayMaxBytes: z.optional(z.int().check(z.positive())),
});

export type StdioServerConfig = z.input<typeof StdioServerConfigSchema>;

/**
 * What a toolset call works on: the parts of the Sandbox Durable Object's runtime it runs against
 * directly, in the object itself (durable-objects/sandbox/toolset-calls.ts builds one per call):
 * the sandbox's filesystem, its persistent shell, its own tools (grep), the directories paths may
 * resolve into, and the signal that stops the call when the runner gives it up.
 */
import type { BashSession } from "../../sandbox/bash/bash-session.ts";
import type { SqliteFs } from "../../sandbox/fs/sqlite-fs.ts";
import type { ToolContext } from "../../sandbox/tools/context.ts";

/** The filesystem operations the toolset uses (SqliteFs has them). */
export type ToolsetFs = Pick<SqliteFs, "physicalPath" | "listFiles" | "stat" | "readFileBuffer" | "writeFile">;

export interface ToolsetContext {
  fs: ToolsetFs;
  bash: Pick<BashSession, "run" | "restart">;
  /** The sandbox's own tools' context: grep runs the sandbox's grep tool on it. */
  tools: ToolContext;
  /**
   * Directories a path may resolve into, normalised and absolute: the workdir first, then the
   * memory-store mounts the runner names (protocol §5: anything else is refused).
   */
  roots: readonly string[];
  signal: AbortSignal;
}

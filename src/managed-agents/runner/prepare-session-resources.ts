/**
 * The session's skills and memory stores, installed into its sandbox before the runner follows the
 * events (protocol §6). Not installed yet: this is the one call site, and it only says so.
 */
import type { ApiCredentials } from "../api-client.ts";
import type { Session } from "../protocol.ts";

export interface SessionResourcesContext {
  session: Session;
  sandboxId: string;
  /** The work item's credentials (memory endpoints take the sessions token only). */
  credentials: ApiCredentials;
  signal: AbortSignal;
}

export interface PreparedSessionResources {
  /** Extra roots the toolset may touch (memory mounts outside the workdir). */
  extraRoots: string[];
}

export async function prepareSessionResources(_context: SessionResourcesContext): Promise<PreparedSessionResources> {
  console.log("skills/memory: not installed");
  return { extraRoots: [] };
}

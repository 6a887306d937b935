/** Helpers for sandbox tests against the real edge over HTTP (startEdge). */
import { afterAll, beforeAll } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { type EdgeCall, type SandboxApi, sandboxApi, withBearer } from "../helpers/sandbox-api.ts";

export type { Created, ToolResultJson } from "../helpers/sandbox-api.ts";

export interface SandboxEdge extends SandboxApi {
  /** The running edge (url, admin token, evict); throws when asked before it started. */
  edge(): RunningEdge;
}

/**
 * Starts the real edge for the calling test file (beforeAll) and closes it afterwards (afterAll),
 * and returns the sandbox API pointed at it. Every request is bounded (60 s) so no test hangs.
 */
export function sandboxEdge(): SandboxEdge {
  let running: RunningEdge | undefined;
  beforeAll(async () => {
    running = await startEdge();
  });
  afterAll(async () => {
    await running?.close();
  });
  const edge = (): RunningEdge => {
    if (!running) throw new Error("the edge is not running (did startEdge fail?)");
    return running;
  };
  const call: EdgeCall = (path, token, init = {}) =>
    fetch(`${edge().url}${path}`, {
      ...init,
      headers: withBearer(init, token),
      signal: init.signal ?? AbortSignal.timeout(60_000),
    });
  return { edge, ...sandboxApi(call, () => edge().adminToken) };
}

/** Polls `check` every `everyMs` until it returns true; fails after `limitMs` (tests never hang). */
export async function eventually(check: () => Promise<boolean>, limitMs = 20_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

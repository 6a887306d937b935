/**
 * Who is calling the stand-in, by the protocol document's rules: the environment key as
 * `Authorization: Bearer` for every worker call; a work item's `sessions_token` (from its `secret`)
 * for that item's heartbeat/stop/session/events/skills/memory calls; never Bearer together with
 * `x-api-key` (401). Poll, stats, list and ack take the environment key only; memory endpoints refuse
 * it (403). Tokens stay valid after the item stops so a repeated stop still gets its 409.
 */
import { ApiError, unauthorized } from "./http.ts";
import type { WorkRecord } from "./work-record.ts";

export type Principal = { kind: "environment"; environmentId: string } | { kind: "work"; work: WorkRecord };

export interface Credentials {
  /** Environment key → environment id. */
  environmentKeys: Map<string, string>;
  /** Sessions token → work id. */
  sessionTokens: Map<string, string>;
  work(id: string): WorkRecord | undefined;
}

export function authenticate(request: Request, credentials: Credentials): Principal {
  const authorization = request.headers.get("authorization");
  if (authorization !== null && request.headers.has("x-api-key")) {
    throw unauthorized("send either Authorization or x-api-key, not both");
  }
  const token = authorization?.match(/^Bearer (\S+)$/)?.[1];
  if (!token) throw unauthorized("missing Authorization: Bearer token");
  const environmentId = credentials.environmentKeys.get(token);
  if (environmentId !== undefined) return { kind: "environment", environmentId };
  const workId = credentials.sessionTokens.get(token);
  const work = workId === undefined ? undefined : credentials.work(workId);
  if (work) return { kind: "work", work };
  throw unauthorized("invalid bearer token");
}

/** Poll, stats, list, ack: the environment's own key. */
export function requireEnvironment(principal: Principal, environmentId: string): void {
  if (principal.kind !== "environment") throw unauthorized("this call takes the environment key");
  if (principal.environmentId !== environmentId) throw unauthorized("the key belongs to another environment");
}

/** Heartbeat, stop, get: the environment's key or the item's own sessions token. */
export function requireWork(principal: Principal, environmentId: string, workId: string): void {
  if (principal.kind === "environment") {
    requireEnvironment(principal, environmentId);
    return;
  }
  if (principal.work.id !== workId || principal.work.environmentId !== environmentId) {
    throw unauthorized("the sessions token belongs to another work item");
  }
}

/** Session and events calls: the key of the session's environment or a token of work for that session. */
export function requireSession(principal: Principal, session: { id: string; environmentId: string }): void {
  if (principal.kind === "environment") {
    requireEnvironment(principal, session.environmentId);
    return;
  }
  if (principal.work.sessionId !== session.id) throw unauthorized("the sessions token belongs to another session");
}

/** Memory: only a sessions token whose session mounts the store. */
export function requireMemory(
  principal: Principal,
  storeIdsOfSession: (sessionId: string) => string[],
  storeId: string,
): void {
  if (principal.kind === "environment") {
    throw new ApiError(
      403,
      "permission_error",
      "memory stores take the work's sessions token, not the environment key",
    );
  }
  if (!storeIdsOfSession(principal.work.sessionId).includes(storeId)) {
    throw new ApiError(403, "permission_error", "the session has no access to this memory store");
  }
}

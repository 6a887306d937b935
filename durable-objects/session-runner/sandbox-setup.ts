/**
 * The session's sandbox: created on first use with the environment's sandbox options (kept
 * `ttl_seconds` after the session, by default DEFAULT_SESSION_SANDBOX_TTL_SECONDS), reused by every
 * later work item of the same session. The runner calls it as the admin; the token a create mints
 * is revoked at once (the runner never uses one).
 */
import { unwrap } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import {
  DEFAULT_SESSION_SANDBOX_TTL_SECONDS,
  type EnvironmentConfig,
} from "../../src/managed-agents/environment-config.ts";
import { sessionSandboxId } from "../../src/managed-agents/runner-contract.ts";
import type { Env } from "../../workers/env.ts";
import { resolveSettings } from "../sandbox/options.ts";
import type { Sandbox } from "../sandbox.ts";

export function sessionSandbox(env: Env, sessionId: string): DurableObjectStub<Sandbox> {
  return env.SANDBOX.get(env.SANDBOX.idFromName(sessionSandboxId(sessionId)));
}

export async function ensureSessionSandbox(env: Env, environment: EnvironmentConfig, sessionId: string): Promise<void> {
  if (environment.backend.type !== "edge") {
    throw new TetherError("bad_request", `sandbox backend "${environment.backend.type}" is not supported yet`);
  }
  const id = sessionSandboxId(sessionId);
  const { ttl_seconds, ...options } = environment.sandbox;
  const settings = resolveSettings(
    { ...options, id, ttl_seconds: ttl_seconds ?? DEFAULT_SESSION_SANDBOX_TTL_SECONDS },
    () => id,
  );
  const sandbox = sessionSandbox(env, sessionId);
  const created = unwrap(await sandbox.create({ kind: "admin" }, settings));
  unwrap(await sandbox.revokeToken({ kind: "admin" }, created.tokenId));
}

import { registry } from "../../durable-objects/registry.ts";
import { backendLabel, permitsBackend } from "../../durable-objects/sandbox/backend-scope.ts";
import { type Caller, noSuchSandbox } from "../../durable-objects/sandbox/caller.ts";
import type { SandboxBackend } from "../../durable-objects/sandbox/options.ts";
import { bearerToken, unauthorized } from "../../src/auth/bearer.ts";
import { hashToken, parseToken, timingSafeEqual } from "../../src/auth/tokens.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import type { Env } from "../env.ts";

/**
 * Resolves the bearer token of a sandbox request into a Caller, checking everything the edge can
 * check without waking the sandbox. The sandbox itself then checks its token hashes and creator.
 *
 * A sandbox token scoped to another sandbox gets exactly the 404 of a sandbox that does not exist,
 * so tokens cannot be used to probe which ids exist.
 */
export async function sandboxCaller(headers: Headers, env: Env, sandboxId: string): Promise<Caller> {
  const token = bearerToken(headers);
  if (!token) throw unauthorized("missing bearer token");
  if (isAdmin(token, env)) return { kind: "admin" };
  const parsed = parseToken(token);
  if (parsed?.kind === "sb") {
    if (parsed.scope !== sandboxId) throw noSuchSandbox();
    return { kind: "sandbox", tokenHash: await hashToken(token) };
  }
  if (parsed?.kind === "api") return { kind: "api", tokenId: await apiTokenId(token, env) };
  throw unauthorized("invalid token for a sandbox");
}

/** Who creates a sandbox, and the backends it may place it on ("any" for the admin token). */
export interface Creator {
  caller: Caller;
  backends: readonly string[] | "any";
}

/** Who may create sandboxes: the admin token or a live API token (its backend scope checked by `checkBackend`). */
export async function creatorCaller(headers: Headers, env: Env): Promise<Creator> {
  const token = bearerToken(headers);
  if (!token) throw unauthorized("missing bearer token");
  if (isAdmin(token, env)) return { caller: { kind: "admin" }, backends: "any" };
  const parsed = parseToken(token);
  if (parsed?.kind === "api") {
    const verified = await registry(env).verifyApiTokenScope(token);
    if (verified === null) throw unauthorized("unknown or revoked API token");
    return { caller: { kind: "api", tokenId: verified.id }, backends: verified.backends };
  }
  if (parsed?.kind === "sb") throw unauthorized("a sandbox token cannot create sandboxes: use an API token");
  throw unauthorized("invalid token: creating sandboxes needs the admin token or an API token");
}

/** Refuses (403) a backend outside the creator's scope (../../durable-objects/sandbox/backend-scope.ts). */
export function checkBackend(creator: Creator, backend: SandboxBackend): void {
  if (creator.backends === "any" || permitsBackend(creator.backends, backend)) return;
  throw new TetherError(
    "forbidden",
    `this API token may not place sandboxes on backend "${backendLabel(backend)}"; its backends: ${creator.backends.join(", ")} (an operator grants more with POST /admin/tokens and "backends")`,
  );
}

function isAdmin(token: string, env: Env): boolean {
  return (
    env.TETHER_ADMIN_TOKEN !== undefined &&
    env.TETHER_ADMIN_TOKEN !== "" &&
    timingSafeEqual(token, env.TETHER_ADMIN_TOKEN)
  );
}

async function apiTokenId(token: string, env: Env): Promise<string> {
  const id = await registry(env).verifyApiToken(token);
  if (id === null) throw unauthorized("unknown or revoked API token");
  return id;
}

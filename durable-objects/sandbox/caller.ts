import { TetherError } from "../../src/errors/tether-error.ts";
import { sandboxTokenId } from "./meta-store.ts";

/**
 * Who is calling a sandbox, as the edge resolved it from the bearer token. The edge checks what it
 * can without the sandbox (admin token, API token in the Registry, a sandbox token's scope); the
 * sandbox checks the rest against its own storage (its token hashes, the API token that created it).
 */
export type Caller =
  | { kind: "admin" }
  /** An API token from the Registry, by id (already verified live). */
  | { kind: "api"; tokenId: string }
  /** A sandbox token (`tth.sb.<id>.<secret>`) whose scope matched; only its hash travels. */
  | { kind: "sandbox"; tokenHash: string };

/** Who called, as the sandbox's audit trail records it (never a secret: a sandbox token by its public id). */
export function callerLabel(caller: Caller): string {
  switch (caller.kind) {
    case "admin":
      return "admin";
    case "api":
      return `api:${caller.tokenId}`;
    case "sandbox":
      return `sandbox-token:${sandboxTokenId(caller.tokenHash)}`;
  }
}

/**
 * The one answer for a sandbox that does not exist and for one the caller may not use (another
 * sandbox's token, another API token's sandbox), so tokens cannot probe which ids exist.
 */
export function noSuchSandbox(): TetherError {
  return new TetherError("not_found", "no such sandbox");
}

/** Whether `caller` may use the sandbox `creator` (an API token id, or null) made, whose live token hashes `hasToken` knows. */
export function permits(caller: Caller, creator: string | null, hasToken: (tokenHash: string) => boolean): boolean {
  switch (caller.kind) {
    case "admin":
      return true;
    case "api":
      return creator === caller.tokenId;
    case "sandbox":
      return hasToken(caller.tokenHash);
  }
}

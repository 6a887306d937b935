import { z } from "zod";
import type { SandboxBackend } from "./options.ts";

/**
 * Which backends an API token may place sandboxes on (`backends` of `POST /admin/tokens`):
 *
 *   "edge"                  sandboxes at the edge
 *   "gateway:*"             any executor on any tunnel
 *   "gateway:TUNNEL"        any executor of that tunnel
 *   "gateway:TUNNEL/NAME"   that executor only
 *
 * A token minted without `backends` (every token minted before scopes existed) may use the edge
 * only: it keeps exactly what it could do, and reaching a customer machine is always granted
 * explicitly. The admin token may use any backend.
 */
export const DEFAULT_BACKEND_SCOPE: readonly string[] = ["edge"];

export const BackendScopeEntrySchema = z
  .string()
  .regex(
    /^(edge|gateway:\*|gateway:[a-z0-9][a-z0-9-]{0,62}(\/[a-z0-9][a-z0-9_-]{0,62})?)$/,
    'backends are "edge", "gateway:*", "gateway:TUNNEL" or "gateway:TUNNEL/EXECUTOR"',
  );

export const BackendScopeSchema = z.array(BackendScopeEntrySchema).min(1).max(64);

/** How a backend is named in scopes and messages: "edge" or "gateway:TUNNEL/EXECUTOR". */
export function backendLabel(backend: SandboxBackend): string {
  return backend.type === "edge" ? "edge" : `gateway:${backend.tunnel}/${backend.executor}`;
}

export function permitsBackend(scope: readonly string[], backend: SandboxBackend): boolean {
  if (backend.type === "edge") return scope.includes("edge");
  return scope.some(
    (entry) =>
      entry === "gateway:*" ||
      entry === `gateway:${backend.tunnel}` ||
      entry === `gateway:${backend.tunnel}/${backend.executor}`,
  );
}

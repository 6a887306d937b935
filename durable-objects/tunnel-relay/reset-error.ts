/**
 * What the agent gets when the gateway resets a stream before answering. Reset codes (see
 * ResetSchema): "cancelled", "upstream_unavailable", "not_found", "gateway_draining", "internal";
 * unknown codes are treated like "internal".
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import { executorNameOf } from "../../src/protocol/executor-api.ts";
import type { Reset } from "../../src/protocol/messages.ts";

export const DRAINING_RETRY_AFTER_S = 1;

/** How messages name an upstream: `MCP server "crm"`, or `executor "main"` for `executor:main`. */
export function upstreamLabel(server: string): string {
  const executor = executorNameOf(server);
  return executor === null ? `MCP server "${server}"` : `executor "${executor}"`;
}

export function resetError(reset: Reset, server: string): TetherError {
  switch (reset.code) {
    case "upstream_unavailable":
      return new TetherError("upstream_unavailable", `${upstreamLabel(server)} is unavailable: ${reset.message}`);
    case "not_found":
      return new TetherError("not_found", `${upstreamLabel(server)}: ${reset.message}`);
    case "gateway_draining":
      return new TetherError("no_gateway", `the gateway serving "${server}" is shutting down; retry`, {
        headers: { "Retry-After": String(DRAINING_RETRY_AFTER_S) },
      });
    default:
      return new TetherError(
        "upstream_unavailable",
        `the gateway failed the call to "${server}" (${reset.code}): ${reset.message}`,
      );
  }
}

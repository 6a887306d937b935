/**
 * What the agent gets when the gateway resets a stream before answering. Reset codes (see
 * ResetSchema): "cancelled", "upstream_unavailable", "not_found", "gateway_draining", "internal";
 * unknown codes are treated like "internal".
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import type { Reset } from "../../src/protocol/messages.ts";

export const DRAINING_RETRY_AFTER_S = 1;

export function resetError(reset: Reset, server: string): TetherError {
  switch (reset.code) {
    case "upstream_unavailable":
      return new TetherError("upstream_unavailable", `MCP server "${server}" is unavailable: ${reset.message}`);
    case "not_found":
      return new TetherError("not_found", `MCP server "${server}": ${reset.message}`);
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

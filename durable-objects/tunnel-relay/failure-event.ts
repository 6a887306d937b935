/**
 * The last event of a relayed event stream whose call failed after the response had started (the
 * gateway left, reset the stream, or the tunnel went away). The status line is long gone, so the
 * failure is told the way the stream tells everything else: a JSON-RPC error answering the
 * request. MCP clients settle the pending call with it at once; without it they would wait for a
 * response that can never come, or try to resume a stream whose session went with the gateway.
 * Only a JSON-RPC request (it has an id) can be answered; anything else gets no event.
 */
import { jsonRpcErrorBody } from "../../src/errors/error-response.ts";
import type { TetherError } from "../../src/errors/tether-error.ts";
import type { McpRequestInfo } from "../../src/mcp/request-info.ts";

const encoder = new TextEncoder();

export function failureEvent(mcp: McpRequestInfo, error: TetherError): Uint8Array | null {
  if (mcp.kind !== "request" || mcp.id === null) return null;
  // JSON.stringify never writes a line break, so the message fits one `data:` line.
  return encoder.encode(`event: message\ndata: ${JSON.stringify(jsonRpcErrorBody(error, mcp.id))}\n\n`);
}

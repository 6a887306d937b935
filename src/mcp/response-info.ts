/**
 * Reads a relayed JSON response body (bounded prefix kept by the relay) for the call trace: a
 * JSON-RPC error, or a tool result flagged `isError`, becomes the trace's error text. Anything
 * else (including bodies that do not parse) records no error: the relay never judges the payload.
 */
import { JSONRPCErrorResponseSchema } from "@modelcontextprotocol/sdk/types.js";

export function describeJsonRpcFailure(body: Uint8Array): string | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null;
  }
  const messages = Array.isArray(value) ? value : [value];
  for (const message of messages) {
    const error = JSONRPCErrorResponseSchema.safeParse(message);
    if (error.success) return `JSON-RPC error ${error.data.error.code}: ${error.data.error.message}`;
    const result = (message as { result?: { isError?: unknown; content?: unknown } } | null)?.result;
    if (result?.isError === true) return `tool error: ${firstText(result.content) ?? "isError"}`;
  }
  return null;
}

function firstText(content: unknown): string | null {
  if (!Array.isArray(content)) return null;
  const text = content.find((item) => (item as { type?: unknown })?.type === "text") as { text?: unknown } | undefined;
  return typeof text?.text === "string" ? text.text.slice(0, 500) : null;
}

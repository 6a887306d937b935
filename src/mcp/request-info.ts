/**
 * What the relay learns from an agent's JSON-RPC POST body before relaying it unchanged: the method
 * (for traces), the tool of a `tools/call`, the id (so edge-made errors answer the right request),
 * and for `initialize` the client's name/version and requested protocol version (for the session
 * record). Parsing uses the MCP SDK's own schemas. A body that is not JSON-RPC is still relayed:
 * the upstream server owns the protocol errors.
 */
import { isInitializeRequest, isJSONRPCRequest, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { hasMediaType, JSON_CONTENT_TYPE } from "./headers.ts";

export const McpRequestInfoSchema = z.object({
  /** "request" | "notification" | "response" (client answering a server request) | "batch" | "other" */
  kind: z.enum(["request", "notification", "response", "batch", "other"]),
  method: z.string().nullable(),
  id: z.union([z.string(), z.number()]).nullable(),
  /** `params.name` of a `tools/call`. */
  tool: z.string().nullable(),
  /** From `initialize` params only. */
  client: z.object({ name: z.string(), version: z.string() }).nullable(),
  protocolVersion: z.string().nullable(),
});
export type McpRequestInfo = z.infer<typeof McpRequestInfoSchema>;

const OTHER: McpRequestInfo = {
  kind: "other",
  method: null,
  id: null,
  tool: null,
  client: null,
  protocolVersion: null,
};

/** Inspects a POST body; returns kind "other" for anything that is not a JSON-RPC message. */
export function inspectMcpRequest(contentType: string | null, body: Uint8Array | null): McpRequestInfo {
  if (!body || body.byteLength === 0 || !hasMediaType(contentType, JSON_CONTENT_TYPE)) return OTHER;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return OTHER;
  }
  if (Array.isArray(value)) {
    // JSON-RPC batches (protocol 2025-03-26 only): record the first request's method.
    const firstRequest = value.find((item) => isJSONRPCRequest(item));
    return { ...OTHER, kind: "batch", method: firstRequest ? (firstRequest as { method: string }).method : null };
  }
  return inspectMessage(value);
}

function inspectMessage(value: unknown): McpRequestInfo {
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) return OTHER;
  // The four message schemas are strict with different keys, so the keys tell which one matched:
  // one parse per call instead of one per kind. Fields are read from `value`, as sent.
  const message = parsed.data;
  if ("method" in message) {
    if (message.method === "initialize" && isInitializeRequest(value)) {
      const { clientInfo, protocolVersion } = value.params;
      return {
        kind: "request",
        method: value.method,
        id: idOf(value),
        tool: null,
        client: { name: clientInfo.name, version: clientInfo.version },
        protocolVersion,
      };
    }
    if (!("id" in message)) return { ...OTHER, kind: "notification", method: message.method };
    const name = message.method === "tools/call" ? (value as { params?: { name?: unknown } }).params?.name : undefined;
    return {
      ...OTHER,
      kind: "request",
      method: message.method,
      id: message.id,
      tool: typeof name === "string" ? name : null,
    };
  }
  return { ...OTHER, kind: "response", id: idOf(value) };
}

function idOf(value: unknown): string | number | null {
  const id = (value as { id?: unknown }).id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

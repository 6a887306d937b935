/**
 * Header names of MCP's Streamable HTTP transport (lower-case, as `Headers` reports them).
 * The relay reads them to follow sessions; it never rewrites them.
 */
export const MCP_SESSION_ID = "mcp-session-id";
export const MCP_PROTOCOL_VERSION = "mcp-protocol-version";
export const LAST_EVENT_ID = "last-event-id";

export const JSON_CONTENT_TYPE = "application/json";
export const SSE_CONTENT_TYPE = "text/event-stream";

/** True when a Content-Type header names `mediaType` (parameters such as charset ignored). */
export function hasMediaType(contentType: string | null | undefined, mediaType: string): boolean {
  if (!contentType) return false;
  return contentType.split(";", 1)[0]?.trim().toLowerCase() === mediaType;
}

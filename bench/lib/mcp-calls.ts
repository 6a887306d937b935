/**
 * The calls benchmarks make with the official MCP SDK client (test/helpers/mcp-client.ts), each
 * checking its answer so a wrong or empty result counts as an error, not as a fast call.
 */
import { connectMcp, type McpSession } from "../../test/helpers/mcp-client.ts";
import type { PoolSpec } from "./levels.ts";

const CALL_TIMEOUT_MS = 30_000;
const MESSAGE = "hello";

/** A small tools/call "echo" (server-everything and bench/upstreams/echo-upstream.ts both have it). */
export async function callEcho(session: McpSession): Promise<void> {
  const result = await session.client.callTool({ name: "echo", arguments: { message: MESSAGE } }, undefined, {
    timeout: CALL_TIMEOUT_MS,
  });
  const first = (result.content as Array<{ type: string; text?: string }> | undefined)?.[0];
  if (result.isError || first?.text !== `Echo: ${MESSAGE}`) {
    throw new Error(`unexpected echo result: ${JSON.stringify(result).slice(0, 200)}`);
  }
}

/** tools/call "blob" of the echo upstream: one text block of exactly `bytes` bytes. */
export async function callBlob(session: McpSession, bytes: number): Promise<void> {
  const result = await session.client.callTool({ name: "blob", arguments: { bytes } }, undefined, {
    timeout: CALL_TIMEOUT_MS,
  });
  const first = (result.content as Array<{ type: string; text?: string }> | undefined)?.[0];
  if (result.isError || first?.text?.length !== bytes) {
    throw new Error(`blob of ${bytes} bytes came back as ${first?.text?.length ?? "nothing"}`);
  }
}

/**
 * SDK sessions at `url`. The token travels in X-Tether-Token on every path, so direct and tunneled
 * clients send the same headers (the edge strips it; upstreams ignore it).
 */
export function mcpSessions(url: string, token: string): PoolSpec<McpSession> {
  return {
    open: () => connectMcp(url, token, { tetherHeader: true }),
    call: callEcho,
    close: (session) => session.close(),
  };
}

/**
 * The blob call as one raw JSON-RPC POST in an existing session, with the Accept-Encoding the caller
 * chooses: shows what a response costs without the compression the local edge applies to JSON
 * for clients that accept gzip (Miniflare emulates Cloudflare's front line there).
 */
export async function fetchBlob(session: McpSession, url: string, token: string, bytes: number): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "accept-encoding": "identity",
      "x-tether-token": token,
      "mcp-session-id": session.sessionId ?? "",
      "mcp-protocol-version": session.transport.protocolVersion ?? "",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "blob", arguments: { bytes } },
    }),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok || text.length < bytes) {
    throw new Error(`raw blob call: ${response.status}, ${text.length} bytes: ${text.slice(0, 200)}`);
  }
}

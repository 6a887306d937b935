/**
 * The official MCP SDK client pointed at a tunnel's agent endpoint, for end-to-end tests and
 * benchmarks: `EDGE/t/TUNNEL/SERVER/mcp` with the agent token, and the admin calls that create a
 * tunnel and issue its tokens.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type ClientCapabilities, CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { RunningEdge } from "./edge.ts";
import { within } from "./stdio-fixtures.ts";

export interface TunnelTokens {
  name: string;
  gatewayToken: string;
  agentToken: string;
  /** Token ids (for revocation through the admin API). */
  gatewayTokenId: string;
  agentTokenId: string;
}

/** POST /admin/tunnels: creates a tunnel and returns its two tokens. */
export async function createTunnel(edge: RunningEdge, name: string): Promise<TunnelTokens> {
  const response = await fetch(`${edge.url}/admin/tunnels`, {
    method: "POST",
    headers: { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 201) throw new Error(`creating tunnel ${name}: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as {
    gatewayToken: string;
    agentToken: string;
    tokens: { id: string; role: "gateway" | "agent" }[];
  };
  const idOf = (role: string) => created.tokens.find((token) => token.role === role)?.id ?? "";
  return {
    name,
    gatewayToken: created.gatewayToken,
    agentToken: created.agentToken,
    gatewayTokenId: idOf("gateway"),
    agentTokenId: idOf("agent"),
  };
}

export function mcpUrl(edge: RunningEdge | string, tunnel: string, server: string): string {
  return `${typeof edge === "string" ? edge : edge.url}/t/${tunnel}/${server}/mcp`;
}

export interface McpSession {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** The Mcp-Session-Id the server assigned (undefined for stateless servers). */
  sessionId: string | undefined;
  /** Ends the session (DELETE) and closes the client; never throws. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  capabilities?: ClientCapabilities;
  /** Registers request handlers (sampling, elicitation, roots) before initialize. */
  setup?: (client: Client) => void;
  /** Send the token in X-Tether-Token rather than Authorization. */
  tetherHeader?: boolean;
  connectMs?: number;
  /** The transport's fetch (e.g. one that cuts streams, ./sse-cut.ts). */
  fetch?: typeof fetch;
}

/**
 * Client options that answer every sampling request (server-to-client) with `reply`, keeping the
 * text of each request's first message in `prompts`.
 */
export function answerSampling(reply: string): Required<Pick<ConnectOptions, "capabilities" | "setup">> & {
  prompts: string[];
} {
  const prompts: string[] = [];
  return {
    prompts,
    capabilities: { sampling: {} },
    setup: (client) =>
      client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
        const first = request.params.messages[0]?.content;
        prompts.push(first && "text" in first ? String(first.text) : "");
        return { role: "assistant", model: "stand-in", content: { type: "text", text: reply } };
      }),
  };
}

/** Connects and initializes an SDK client through the edge. */
export async function connectMcp(url: string, agentToken: string, options: ConnectOptions = {}): Promise<McpSession> {
  const headers: Record<string, string> = options.tetherHeader
    ? { "x-tether-token": agentToken }
    : { authorization: `Bearer ${agentToken}` };
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: options.fetch });
  const client = new Client({ name: "tether-e2e", version: "1.0.0" }, { capabilities: options.capabilities ?? {} });
  options.setup?.(client);
  try {
    await within(client.connect(transport), options.connectMs ?? 20_000, `initialize at ${url}`);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return {
    client,
    transport,
    sessionId: transport.sessionId,
    async close() {
      await within(transport.terminateSession(), 5_000, "terminate session").catch(() => {});
      await client.close().catch(() => {});
    },
  };
}

/**
 * One JSON-RPC request POSTed by hand (id 1), for the statuses and bodies the SDK client hides.
 * `headers` add to or replace the defaults (Mcp-Session-Id, another Accept …).
 */
export function postJsonRpc(
  url: string,
  token: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
}

/** DELETE /admin/tunnels/NAME/tokens/ID: revokes a token (a gateway token's live sockets close at once). */
export async function revokeToken(edge: RunningEdge, tunnel: string, tokenId: string): Promise<void> {
  const response = await fetch(`${edge.url}/admin/tunnels/${tunnel}/tokens/${tokenId}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${edge.adminToken}` },
  });
  if (!response.ok) throw new Error(`revoking ${tokenId}: ${response.status} ${await response.text()}`);
}

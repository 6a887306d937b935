import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool as McpTool,
} from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { TetherError } from "../../src/errors/tether-error.ts";
import { resultText, type ToolCallEvent } from "../../src/sandbox/tool-calls/events.ts";
import type { ToolUseBlock } from "../../src/sandbox/tool-calls/tool-use-block.ts";
import type { EventChannel } from "./event-channel.ts";

/**
 * A sandbox's MCP face (`/v1/sandboxes/:id/mcp`): the same tools as `POST /tool-calls`, served over
 * Streamable HTTP by the MCP SDK's web-standard transport, inside the sandbox's Durable Object.
 *
 * Stateless mode (no Mcp-Session-Id): a fresh SDK server and transport answer each POST. Every bit
 * of state an MCP client can observe already lives in the sandbox (files, the shell session, the
 * trace) and is shared by all callers, so a per-client session would hold nothing of its own; it
 * would only be memory that eviction throws away, forcing clients to re-initialize for no gain.
 * Stateless, a client survives eviction and restarts of the object without noticing. There are no
 * server-initiated messages, so GET (the optional server-to-client stream) and DELETE (ending a
 * session) answer 405. Tool output is streamed as `notifications/progress` when the client sent a
 * progressToken; the SDK's SSE keep-alive (every 15 s) keeps long calls from being cut.
 */

export interface McpFaceOptions {
  tools: () => McpTool[];
  /** Starts tool_use blocks in the sandbox's serialised runner; cancelling skips what has not started. */
  run: (blocks: ToolUseBlock[]) => EventChannel<ToolCallEvent>;
}

const SERVER_INFO = { name: "tether-sandbox", version: "0.1.0" };

/** We never ask clients for elicitation, the only thing the SDK validates JSON Schema for. */
const NO_VALIDATION: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "not supported" }),
};

export async function handleMcpRequest(request: Request, options: McpFaceOptions): Promise<Response> {
  if (request.method !== "POST") {
    throw new TetherError("method_not_allowed", "this MCP server is stateless: only POST is supported", {
      headers: { Allow: "POST" },
    });
  }
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    jsonSchemaValidator: NO_VALIDATION,
    instructions:
      "A Tether sandbox: a persistent filesystem (working directory /workspace) and one bash session shared by every client.",
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: options.tools() }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const progressToken = req.params._meta?.progressToken;
    let progress = 0;
    const events = options.run([
      { type: "tool_use", id: `mcp_${crypto.randomUUID()}`, name: req.params.name, input: req.params.arguments ?? {} },
    ]);
    // A cancelled MCP request cancels the run: the call in progress finishes, nothing further starts.
    const stop = () => events.cancel();
    extra.signal.addEventListener("abort", stop, { once: true });
    let text = "the call ended without a result";
    let isError = true;
    try {
      for await (const event of events) {
        if (event.event === "output" && progressToken !== undefined) {
          progress++;
          const params = { progressToken, progress, message: event.text };
          void extra.sendNotification({ method: "notifications/progress", params }).catch(() => {});
        }
        if (event.event === "result") {
          text = resultText(event);
          isError = event.result.is_error;
        }
      }
    } finally {
      extra.signal.removeEventListener("abort", stop);
    }
    return { content: [{ type: "text", text }], isError };
  });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  return transport.handleRequest(request);
}

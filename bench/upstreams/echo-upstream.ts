/**
 * The smallest MCP server over Streamable HTTP that the official SDK client accepts, so that a
 * benchmark through it shows what the path in front of it costs rather than what a server costs:
 *
 *   POST initialize              → JSON result + a fresh Mcp-Session-Id
 *   POST notifications / replies → 202
 *   POST tools/list              → two tools
 *   POST tools/call echo         → "Echo: <message>"
 *   POST tools/call blob         → one text block of exactly `bytes` bytes (large results)
 *   POST ping                    → {}
 *   GET                          → 405 (no standing stream)
 *   DELETE                       → ends the session
 *
 * Every answer is plain JSON (no SSE). Sessions are checked (400 without one, 404 for an unknown
 * one) because relays route by them. Run it as a process: `node bench/upstreams/echo-upstream.ts
 * [PORT]` listens on 127.0.0.1 and prints "echo upstream listening on port N".
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ErrorCode,
  type JSONRPCRequest,
  JSONRPCMessageSchema,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** Largest blob a call may ask for (the benchmark goes up to 16 MiB). */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;
const MAX_REQUEST_BYTES = 1024 * 1024;
const SESSION_HEADER = "mcp-session-id";

const EchoArgumentsSchema = z.object({ message: z.string() });
const BlobArgumentsSchema = z.object({ bytes: z.number().int().min(0).max(MAX_BLOB_BYTES) });
const CallParamsSchema = z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).default({}) });
const InitializeParamsSchema = z.object({ protocolVersion: z.string() });

const TOOLS = [
  {
    name: "echo",
    description: "Echoes the message back",
    inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
  },
  {
    name: "blob",
    description: "Returns one text block of exactly `bytes` bytes",
    inputSchema: { type: "object", properties: { bytes: { type: "integer", minimum: 0 } }, required: ["bytes"] },
  },
];

export interface EchoUpstream {
  /** The MCP endpoint, http://127.0.0.1:PORT/mcp. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startEchoUpstream(port = 0): Promise<EchoUpstream> {
  const sessions = new Set<string>();
  /** Blob texts by size: built once, so repeated large calls measure transport, not string building. */
  const blobs = new Map<number, Buffer>();
  const server: Server = createServer((req, res) => {
    handle(req, res, sessions, blobs).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { error: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  sessions: Set<string>,
  blobs: Map<number, Buffer>,
): Promise<void> {
  if (new URL(req.url ?? "/", "http://upstream").pathname !== "/mcp") return reply(res, 404, { error: "not found" });
  const sessionId = req.headers[SESSION_HEADER];
  const known = typeof sessionId === "string" && sessions.has(sessionId);
  if (req.method === "GET") return reply(res, 405, { error: "no standing stream" }, { allow: "POST, DELETE" });
  if (req.method === "DELETE") {
    if (!known) return reply(res, 404, { error: "unknown session" });
    sessions.delete(sessionId);
    return reply(res, 200, {});
  }
  if (req.method !== "POST") return reply(res, 405, { error: "method not allowed" }, { allow: "GET, POST, DELETE" });

  const parsed = JSONRPCMessageSchema.safeParse(await readJson(req));
  if (!parsed.success) return rpcError(res, null, ErrorCode.ParseError, "not a JSON-RPC message");
  const message = parsed.data;
  if (!("method" in message) || !("id" in message)) {
    // Notifications and responses to our (never sent) requests.
    return known ? reply(res, 202, null) : sessionError(res, sessionId);
  }
  if (message.method === "initialize") {
    const requested = InitializeParamsSchema.safeParse(message.params);
    const version =
      requested.success && SUPPORTED_PROTOCOL_VERSIONS.includes(requested.data.protocolVersion)
        ? requested.data.protocolVersion
        : LATEST_PROTOCOL_VERSION;
    const id = randomUUID();
    sessions.add(id);
    const result = {
      protocolVersion: version,
      capabilities: { tools: {} },
      serverInfo: { name: "tether-bench-echo", version: "1.0.0" },
    };
    return reply(res, 200, { jsonrpc: "2.0", id: message.id, result }, { [SESSION_HEADER]: id });
  }
  if (!known) return sessionError(res, sessionId);
  return answer(res, message, blobs);
}

function answer(res: ServerResponse, request: JSONRPCRequest, blobs: Map<number, Buffer>): void {
  switch (request.method) {
    case "ping":
      return result(res, request, {});
    case "tools/list":
      return result(res, request, { tools: TOOLS });
    case "tools/call": {
      const call = CallParamsSchema.safeParse(request.params);
      if (!call.success) return rpcError(res, request.id, ErrorCode.InvalidParams, "tools/call needs a name");
      if (call.data.name === "echo") {
        const args = EchoArgumentsSchema.safeParse(call.data.arguments);
        if (!args.success) return rpcError(res, request.id, ErrorCode.InvalidParams, "echo needs a message");
        return result(res, request, { content: [{ type: "text", text: `Echo: ${args.data.message}` }] });
      }
      if (call.data.name === "blob") {
        const args = BlobArgumentsSchema.safeParse(call.data.arguments);
        if (!args.success) return rpcError(res, request.id, ErrorCode.InvalidParams, "blob needs bytes ≤ 64 MiB");
        return blobResult(res, request, blob(blobs, args.data.bytes));
      }
      return rpcError(res, request.id, ErrorCode.InvalidParams, `unknown tool ${call.data.name}`);
    }
    default:
      return rpcError(res, request.id, ErrorCode.MethodNotFound, `method ${request.method} not found`);
  }
}

function blob(blobs: Map<number, Buffer>, bytes: number): Buffer {
  const cached = blobs.get(bytes);
  if (cached) return cached;
  const text = Buffer.alloc(bytes, "x");
  blobs.set(bytes, text);
  return text;
}

/** The result JSON written around the blob's bytes, so the blob is never copied into a string. */
function blobResult(res: ServerResponse, request: JSONRPCRequest, text: Buffer): void {
  const [head, tail] = JSON.stringify({
    jsonrpc: "2.0",
    id: request.id,
    result: { content: [{ type: "text", text: "\u0000" }] },
  }).split("\\u0000") as [string, string];
  const length = Buffer.byteLength(head) + text.byteLength + Buffer.byteLength(tail);
  res.writeHead(200, { "content-type": "application/json", "content-length": length });
  res.write(head);
  res.write(text);
  res.end(tail);
}

function result(res: ServerResponse, request: JSONRPCRequest, value: unknown): void {
  reply(res, 200, { jsonrpc: "2.0", id: request.id, result: value });
}

function rpcError(res: ServerResponse, id: JSONRPCRequest["id"] | null, code: number, message: string): void {
  reply(res, code === ErrorCode.ParseError ? 400 : 200, { jsonrpc: "2.0", id, error: { code, message } });
}

function sessionError(res: ServerResponse, sessionId: string | string[] | undefined): void {
  if (sessionId === undefined) return rpcError(res, null, ErrorCode.InvalidRequest, "missing Mcp-Session-Id");
  reply(res, 404, { jsonrpc: "2.0", id: null, error: { code: ErrorCode.InvalidRequest, message: "unknown session" } });
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === null) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_REQUEST_BYTES) throw new Error("request body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const upstream = await startEchoUpstream(Number(process.argv[2] ?? 0));
  console.log(`echo upstream listening on port ${upstream.port}`);
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

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
  JSONRPCMessageSchema,
  type JSONRPCRequest,
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
    handle(req, sessions, blobs).then(
      (reply) => send(res, reply),
      (error: unknown) => send(res, { status: 500, body: { error: String(error) } }),
    );
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

/** What to send back: a JSON body (or none), or a blob result written around its bytes. */
type Reply =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { blob: Buffer; id: JSONRPCRequest["id"] };

async function handle(req: IncomingMessage, sessions: Set<string>, blobs: Map<number, Buffer>): Promise<Reply> {
  if (new URL(req.url ?? "/", "http://upstream").pathname !== "/mcp")
    return { status: 404, body: { error: "not found" } };
  const sessionId = req.headers[SESSION_HEADER];
  const known = typeof sessionId === "string" && sessions.has(sessionId);
  if (req.method === "GET")
    return { status: 405, body: { error: "no standing stream" }, headers: { allow: "POST, DELETE" } };
  if (req.method === "DELETE") {
    if (!known) return { status: 404, body: { error: "unknown session" } };
    sessions.delete(sessionId);
    return { status: 200, body: {} };
  }
  if (req.method !== "POST")
    return { status: 405, body: { error: "method not allowed" }, headers: { allow: "GET, POST, DELETE" } };

  const parsed = JSONRPCMessageSchema.safeParse(await readJson(req));
  if (!parsed.success) return rpcError(null, ErrorCode.ParseError, "not a JSON-RPC message");
  const message = parsed.data;
  if (!("method" in message) || !("id" in message)) {
    // Notifications, and responses to requests this server never sends.
    return known ? { status: 202, body: null } : sessionError(sessionId);
  }
  if (message.method === "initialize") return initialize(message, sessions);
  if (!known) return sessionError(sessionId);
  return answer(message, blobs);
}

function initialize(request: JSONRPCRequest, sessions: Set<string>): Reply {
  const requested = InitializeParamsSchema.safeParse(request.params);
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
  return { status: 200, body: { jsonrpc: "2.0", id: request.id, result }, headers: { [SESSION_HEADER]: id } };
}

function answer(request: JSONRPCRequest, blobs: Map<number, Buffer>): Reply {
  switch (request.method) {
    case "ping":
      return result(request, {});
    case "tools/list":
      return result(request, { tools: TOOLS });
    case "tools/call": {
      const call = CallParamsSchema.safeParse(request.params);
      if (!call.success) return rpcError(request.id, ErrorCode.InvalidParams, "tools/call needs a name");
      if (call.data.name === "echo") {
        const args = EchoArgumentsSchema.safeParse(call.data.arguments);
        if (!args.success) return rpcError(request.id, ErrorCode.InvalidParams, "echo needs a message");
        return result(request, { content: [{ type: "text", text: `Echo: ${args.data.message}` }] });
      }
      if (call.data.name === "blob") {
        const args = BlobArgumentsSchema.safeParse(call.data.arguments);
        if (!args.success) return rpcError(request.id, ErrorCode.InvalidParams, "blob needs bytes <= 64 MiB");
        return { blob: blob(blobs, args.data.bytes), id: request.id };
      }
      return rpcError(request.id, ErrorCode.InvalidParams, `unknown tool ${call.data.name}`);
    }
    default:
      return rpcError(request.id, ErrorCode.MethodNotFound, `method ${request.method} not found`);
  }
}

function blob(blobs: Map<number, Buffer>, bytes: number): Buffer {
  const cached = blobs.get(bytes);
  if (cached) return cached;
  const text = Buffer.alloc(bytes, "x");
  blobs.set(bytes, text);
  return text;
}

function result(request: JSONRPCRequest, value: unknown): Reply {
  return { status: 200, body: { jsonrpc: "2.0", id: request.id, result: value } };
}

function rpcError(id: JSONRPCRequest["id"] | null, code: number, message: string): Reply {
  return { status: code === ErrorCode.ParseError ? 400 : 200, body: { jsonrpc: "2.0", id, error: { code, message } } };
}

function sessionError(sessionId: string | string[] | undefined): Reply {
  if (sessionId === undefined)
    return { ...rpcError(null, ErrorCode.InvalidRequest, "missing Mcp-Session-Id"), status: 400 };
  return { ...rpcError(null, ErrorCode.InvalidRequest, "unknown session"), status: 404 };
}

function send(res: ServerResponse, reply: Reply): void {
  if ("blob" in reply) {
    // The result JSON is written around the blob's bytes, so the blob is never copied into a string.
    const [head, tail] = JSON.stringify({
      jsonrpc: "2.0",
      id: reply.id,
      result: { content: [{ type: "text", text: "\u0000" }] },
    }).split("\\u0000") as [string, string];
    const length = Buffer.byteLength(head) + reply.blob.byteLength + Buffer.byteLength(tail);
    res.writeHead(200, { "content-type": "application/json", "content-length": length });
    res.write(head);
    res.write(reply.blob);
    res.end(tail);
    return;
  }
  if (reply.body === null) {
    res.writeHead(reply.status, reply.headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...reply.headers,
  });
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

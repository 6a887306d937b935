/**
 * Shared pieces of the stdio adapter tests: the real MCP reference servers run under the project's
 * Node 22, a StdioUpstream behind a node:http server on 127.0.0.1, the official SDK client, and
 * bounded waits. Everything a fixture starts is stopped by `stop()`, by PID as a last resort.
 */
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { ClientCapabilities, JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { MessageDirection } from "../../src/gateway/stdio/child-session.ts";
import { StdioUpstream, type StdioUpstreamOptions } from "../../src/gateway/stdio/stdio-upstream.ts";
import { serveWeb, type WebHttpServer } from "./web-http-server.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The project's Node 22 binary (the system node is older). */
export const NODE = `${ROOT}node_modules/.bin/node`;
export const EVERYTHING = `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;
export const FILESYSTEM = `${ROOT}node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`;

export interface Crossing {
  sessionId: string;
  direction: MessageDirection;
  message: JSONRPCMessage;
}

export interface Fixture {
  upstream: StdioUpstream;
  server: WebHttpServer;
  url: string;
  /** Every message that crossed the adapter, in order. */
  crossings: Crossing[];
  /** Every line the adapter logged (child stderr and diagnostics). */
  logs: string[];
  /** Connects an SDK client; `setup` registers its handlers before initialize. */
  connect(options?: {
    capabilities?: ClientCapabilities;
    setup?: (client: Client) => void;
    fetch?: typeof fetch;
  }): Promise<Connected>;
  /** PIDs of every child this fixture's upstream has run (seen while alive). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport;
  sessionId: string;
}

export async function startFixture(
  options: Partial<StdioUpstreamOptions> & Pick<StdioUpstreamOptions, "command">,
): Promise<Fixture> {
  const crossings: Crossing[] = [];
  const logs: string[] = [];
  const seenPids = new Set<number>();
  const upstream = new StdioUpstream({
    name: "everything",
    args: [],
    killGraceMs: 2_000,
    ...options,
    log: (line) => logs.push(line),
    onMessage: (sessionId, direction, message) => {
      crossings.push({ sessionId, direction, message });
      for (const session of upstream.sessions()) seenPids.add(session.pid);
    },
  });
  const server = await serveWeb((request, signal) =>
    upstream.handle(request, new URL(request.url).pathname.replace(/^\/mcp\/?/, ""), signal),
  );
  const url = `${server.url}/mcp`;
  const clients: Client[] = [];
  return {
    upstream,
    server,
    url,
    crossings,
    logs,
    async connect({ capabilities, setup, fetch } = {}) {
      const client = new Client({ name: "tether-test", version: "1.0.0" }, { capabilities: capabilities ?? {} });
      setup?.(client);
      const transport = new StreamableHTTPClientTransport(new URL(url), { fetch });
      clients.push(client);
      await within(client.connect(transport), 20_000, "client.connect");
      for (const session of upstream.sessions()) seenPids.add(session.pid);
      return { client, transport, sessionId: transport.sessionId ?? "" };
    },
    pids: () => {
      for (const session of upstream.sessions()) seenPids.add(session.pid);
      return [...seenPids];
    },
    async stop() {
      for (const client of clients) await client.close().catch(() => {});
      await within(upstream.close(), 15_000, "upstream.close").catch(() => {});
      await server.close();
      for (const pid of seenPids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
    },
  };
}

export function everythingFixture(options: Partial<StdioUpstreamOptions> = {}): Promise<Fixture> {
  return startFixture({ name: "everything", command: NODE, args: [EVERYTHING, "stdio"], ...options });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Rejects if `promise` has not settled within `ms` (so no test can hang). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` until it holds; fails after `ms`. */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface SseReader {
  /** The next JSON-RPC message on the stream, or undefined once the stream ended. */
  next(ms: number): Promise<JSONRPCMessage | undefined>;
  cancel(): Promise<void>;
}

/** Reads the JSON-RPC messages of an SSE body (comments such as keep-alives are skipped). */
export function sseReader(body: ReadableStream<Uint8Array>): SseReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const queue: JSONRPCMessage[] = [];
  let buffer = "";
  let ended = false;
  const parse = () => {
    let boundary = buffer.indexOf("\n\n");
    while (boundary !== -1) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data !== "") queue.push(JSON.parse(data) as JSONRPCMessage);
      boundary = buffer.indexOf("\n\n");
    }
  };
  return {
    async next(ms) {
      const deadline = Date.now() + ms;
      while (queue.length === 0 && !ended) {
        const { done, value } = await within(reader.read(), Math.max(1, deadline - Date.now()), "an SSE event");
        if (done) ended = true;
        else {
          buffer += decoder.decode(value, { stream: true });
          parse();
        }
      }
      return queue.shift();
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

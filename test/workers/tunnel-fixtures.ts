/**
 * Fixtures for the tunnel tests inside workerd: requests into the edge, an admin client, MCP
 * request bodies and bounded waits. The simulated gateway is in ./tunnel-sim-gateway.ts.
 */
import { exports } from "cloudflare:workers";
import { beforeAll } from "vitest";
import type { CallTrace } from "../../durable-objects/tunnel-relay/trace-store.ts";

export const EDGE = "http://edge.test";
export const ADMIN_TOKEN = "test-admin-token";
/** Every wait in these tests is bounded by this. */
export const WAIT_MS = 5_000;

/**
 * Loads the edge's modules before the first test: the first request into the Worker transforms
 * and loads all of it, which takes longer than one test's time budget on a busy machine.
 */
export function warmUpEdge(): void {
  beforeAll(async () => {
    await exports.default.fetch(new Request(`${EDGE}/ping`));
  }, 120_000);
}

let tunnelCounter = 0;
/** A tunnel name unique within the test run (storage is shared between tests of one file). */
export function uniqueName(prefix = "t"): string {
  tunnelCounter++;
  return `${prefix}-${Date.now().toString(36)}-${tunnelCounter}`;
}

export function edgeFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${EDGE}${path}`, init));
}

export async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return edgeFetch(path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An admin call whose success is expected: its JSON body, or an error naming the status. */
export async function adminJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await admin(method, path, body);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface CreatedTunnel {
  name: string;
  gatewayToken: string;
  agentToken: string;
  tokens: Array<{ id: string; role: string }>;
}

export async function createTunnel(
  settings: Record<string, unknown> = {},
  name = uniqueName(),
): Promise<CreatedTunnel> {
  const res = await admin("POST", "/admin/tunnels", { name, ...settings });
  if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedTunnel;
}

/** Calls the agent endpoint with the agent token in Authorization. */
export function agentFetch(
  tunnel: CreatedTunnel,
  server: string,
  init: RequestInit & { path?: string; token?: string } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization") && !headers.has("x-tether-token")) {
    headers.set("authorization", `Bearer ${init.token ?? tunnel.agentToken}`);
  }
  return edgeFetch(`/t/${tunnel.name}/${server}/mcp${init.path ?? ""}`, { ...init, headers });
}

export function jsonRpc(method: string, params: Record<string, unknown> = {}, id: number | string = 1): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method, params });
}

export const POST_JSON = { accept: "application/json, text/event-stream", "content-type": "application/json" };
/** An agent opening its GET event stream. */
export const SSE_GET = { method: "GET", headers: { accept: "text/event-stream" } };

export function initializeBody(id: number | string = 1): string {
  return jsonRpc(
    "initialize",
    { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test-client", version: "1.2.3" } },
    id,
  );
}

/** Resolves with the promise's value or rejects after `ms` (no test may hang). */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it holds (every 20 ms, at most `ms`); for state written behind, never for timing. */
export async function eventually(check: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const JSON_HEADERS: Array<[string, string]> = [["content-type", "application/json"]];
export const SSE_HEADERS: Array<[string, string]> = [["content-type", "text/event-stream"]];

/** The admin API's view of a tunnel (GET /admin/tunnels/:name), typed as far as a test reads it. */
export async function tunnelDetail<T>(tunnel: string): Promise<T> {
  return (await (await admin("GET", `/admin/tunnels/${tunnel}`)).json()) as T;
}

/** The tunnel's recent call traces, newest first, as operators see them. */
export async function traces(tunnel: string): Promise<Array<Record<string, unknown>>> {
  return (await tunnelDetail<{ traces: Array<Record<string, unknown>> }>(tunnel)).traces;
}

/** A trace row of a plain 200 call to "echo", for tests that write traces straight into the store. */
export function callTrace(rpcMethod: string, at = Date.now()): CallTrace {
  return {
    at,
    server: "echo",
    httpMethod: "POST",
    rpcMethod,
    tool: null,
    sessionId: null,
    gatewayId: null,
    tokenId: null,
    status: 200,
    durationMs: 1,
    bytesIn: 0,
    bytesOut: 0,
    error: null,
  };
}

/**
 * A gateway started in-process (startGateway) against a fake edge, with scripted upstreams and
 * a log the test can read. Node tests of the gateway's connection and stream handling share it.
 */
import { newToken } from "../../src/auth/tokens.ts";
import type { GatewayConfig } from "../../src/gateway/config.ts";
import { type GatewayOptions, type RunningGateway, startGateway } from "../../src/gateway/gateway.ts";
import type { LogFields } from "../../src/gateway/log.ts";
import type { Upstream } from "../../src/gateway/upstream.ts";
import { type FakeConnection, type FakeEdge, startFakeEdge } from "./fake-edge.ts";
import { until } from "./stdio-fixtures.ts";

export const TUNNEL = "corp";
export const GATEWAY_TOKEN = newToken("gw", TUNNEL);

export interface UpstreamCall {
  request: Request;
  path: string;
  signal: AbortSignal;
}

/** An Upstream whose answers a test scripts; it records every call and whether it was closed. */
export class ScriptedUpstream implements Upstream {
  readonly name: string;
  readonly kind = "http" as const;
  readonly allowPaths: readonly string[];
  readonly calls: UpstreamCall[] = [];
  closed = false;
  #handler: (call: UpstreamCall) => Promise<Response>;

  constructor(name: string, handler: (call: UpstreamCall) => Promise<Response>, allowPaths: string[] = []) {
    this.name = name;
    this.#handler = handler;
    this.allowPaths = allowPaths;
  }

  handle(request: Request, path: string, signal: AbortSignal): Promise<Response> {
    const call = { request, path, signal };
    this.calls.push(call);
    return this.#handler(call);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface Harness {
  edge: FakeEdge;
  gateway: RunningGateway;
  events: { event: string; fields: LogFields }[];
  /** Waits for the next connection, checks its Hello and answers Welcome (announcing `features`). */
  connected(pingIntervalMs?: number, features?: string[]): Promise<FakeConnection>;
  stop(): Promise<void>;
}

/** `options` adds to what the harness passes startGateway (e.g. executors). */
export async function startHarness(
  upstreams: Upstream[],
  config: Partial<GatewayConfig> = {},
  options: Pick<GatewayOptions, "executors" | "host"> = {},
): Promise<Harness> {
  const edge = await startFakeEdge();
  const events: Harness["events"] = [];
  const gateway = await startGateway(
    { edge: edge.url, tunnel: TUNNEL, token: GATEWAY_TOKEN, servers: [], drainTimeoutMs: 5_000, ...config },
    {
      upstreams,
      log: (event, fields = {}) => events.push({ event, fields }),
      backoff: { baseMs: 20, capMs: 100 },
      ...options,
    },
  );
  return {
    edge,
    gateway,
    events,
    async connected(pingIntervalMs = 60_000, features: string[] = []) {
      const connection = await edge.nextConnection();
      await connection.hello();
      connection.welcome(TUNNEL, pingIntervalMs, features);
      await until(() => gateway.client.state === "connected", 5_000, "the gateway to take the Welcome");
      return connection;
    },
    async stop() {
      await gateway.stop();
      await edge.close();
    },
  };
}

/** Waits until the gateway logged `event` (optionally `count` times). */
export async function logged(harness: Harness, event: string, count = 1, ms = 5_000): Promise<LogFields[]> {
  const matching = () => harness.events.filter((entry) => entry.event === event);
  await until(() => matching().length >= count, ms, `the gateway to log "${event}" ${count}×`);
  return matching().map((entry) => entry.fields);
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);

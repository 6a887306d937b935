/**
 * An in-process gateway (startGateway) connected to a real edge, serving TEST executors
 * (./test-executor-upstream.ts) that it announces in its Hello, each over its own temporary
 * directory. Tests of gateway sandboxes start one or more of these and stop them to take an
 * executor's gateway away.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningGateway, startGateway } from "../../src/gateway/gateway.ts";
import type { LogFields } from "../../src/gateway/log.ts";
import type { RunningEdge } from "./edge.ts";
import { until } from "./stdio-fixtures.ts";
import { TestExecutorUpstream } from "./test-executor-upstream.ts";

export interface ExecutorGateway {
  gateway: RunningGateway;
  executor: TestExecutorUpstream;
  /** The executor's root directory (a sandbox's workspace is ROOT/<id>/workspace). */
  root: string;
  events: { event: string; fields: LogFields }[];
  /** Stops the gateway (idempotent); the directory stays until `cleanup`. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startExecutorGateway(
  edge: RunningEdge,
  tunnel: string,
  gatewayToken: string,
  /** `root`: an earlier executor's directory, to play the same machine coming back. */
  options: { executor?: string; instance: string; root?: string },
): Promise<ExecutorGateway> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "tether-test-executor-")));
  const executor = new TestExecutorUpstream(root, options.executor ?? "main", options.instance);
  const events: ExecutorGateway["events"] = [];
  const gateway = await startGateway(
    { edge: edge.url, tunnel, token: gatewayToken, servers: [], drainTimeoutMs: 1_000 },
    {
      upstreams: [],
      executors: [executor],
      log: (event, fields = {}) => events.push({ event, fields }),
      backoff: { baseMs: 50, capMs: 500 },
    },
  );
  try {
    await until(() => gateway.client.state === "connected", 20_000, "the gateway to connect");
  } catch (error) {
    await gateway.stop();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    gateway,
    executor,
    root,
    events,
    stop: () => gateway.stop(),
    async cleanup() {
      await gateway.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

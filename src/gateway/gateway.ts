/**
 * A running gateway: the upstreams for its configured servers and executors, and the tunnel
 * connection that relays agents' requests to them (an executor under `executor:NAME`).
 * `stop()` is the orderly end (what SIGTERM/SIGINT trigger): drain the tunnel, then close every
 * upstream, which stops every stdio child and every sandbox's processes.
 */
import { randomUUID } from "node:crypto";
import pkg from "../../package.json" with { type: "json" };
import { executorUpstreamName } from "../protocol/executor-api.ts";
import type { Hello } from "../protocol/messages.ts";
import { Feature, TUNNEL_PROTOCOL_VERSION } from "../protocol/version.ts";
import type { BackoffOptions } from "../retry/backoff.ts";
import { connectUrl, type GatewayConfig, isCleartextRemote } from "./config.ts";
import type { NamedExecutorConfig } from "./executor/executor-config.ts";
import { checkExecutorHost, createExecutors, type ExecutorHost, type ExecutorUpstream } from "./executors.ts";
import { GatewayConfigError } from "./load-config.ts";
import { describeError, type Logger, stderrLogger } from "./log.ts";
import { TunnelClient } from "./tunnel-client.ts";
import type { Upstream, UpstreamKind } from "./upstream.ts";
import { createUpstream } from "./upstreams.ts";

export const GATEWAY_VERSION: string = pkg.version;

export interface GatewayOptions {
  log?: Logger;
  backoff?: BackoffOptions;
  /** Replaces the upstreams built from the config's servers (tests). */
  upstreams?: Upstream[];
  /** Replaces the executors built from the config's executors (tests). */
  executors?: ExecutorUpstream[];
  /** The process and machine executors are checked against (tests); this process's by default. */
  host?: ExecutorHost;
}

export interface RunningGateway {
  readonly gatewayId: string;
  readonly client: TunnelClient;
  /** By the name Open frames use: a server's name, or `executor:NAME`. */
  readonly upstreams: ReadonlyMap<string, Upstream<UpstreamKind>>;
  /** Drains the tunnel (bounded by the config's drainTimeoutMs) and closes every upstream and executor. Idempotent. */
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const log = options.log ?? stderrLogger;
  const executorConfigs = config.executors ?? [];
  // Refused before anything starts: nothing is left running when the machine cannot host them.
  checkExecutorHost(executorConfigs, config.allowRoot === true, options.host);
  const url = connectUrl(config.edge, config.tunnel);
  if (isCleartextRemote(config.edge)) {
    if (!config.insecure) {
      throw new GatewayConfigError([
        `edge "${config.edge}": the gateway token would cross the network unencrypted; use https:// or set insecure`,
      ]);
    }
    log("insecure_edge", { edge: config.edge, hint: "the gateway token travels unencrypted; use https://" });
  }
  const servers = options.upstreams ?? (await Promise.all(config.servers.map((server) => createUpstream(server, log))));
  let executors: ExecutorUpstream[];
  try {
    executors = options.executors ?? (await createExecutors(executorConfigs, log));
  } catch (error) {
    await closeUpstreams(servers, log);
    throw error;
  }
  const all: Upstream<UpstreamKind>[] = [...servers, ...executors];
  const upstreams = new Map<string, Upstream<UpstreamKind>>([
    ...servers.map((upstream) => [upstream.name, upstream] as const),
    ...executors.map((executor) => [executorUpstreamName(executor.announcement.name), executor] as const),
  ]);
  const gatewayId = `gw-${randomUUID()}`;
  const hello: Hello = {
    protocol: TUNNEL_PROTOCOL_VERSION,
    gatewayId,
    version: GATEWAY_VERSION,
    servers: servers.map(({ name, kind, allowPaths }) => ({ name, kind, allowPaths: [...allowPaths] })),
    executors: executors.map(({ announcement }) => ({ ...announcement })),
    features: [Feature.inlineBodies],
  };
  const client = new TunnelClient({
    url,
    token: config.token,
    tunnel: config.tunnel,
    hello,
    upstreams,
    log,
    backoff: options.backoff,
  });
  log("starting", {
    version: GATEWAY_VERSION,
    gatewayId,
    tunnel: config.tunnel,
    servers: servers.map((upstream) => `${upstream.name}(${upstream.kind})`).join(","),
    executors: executors.length > 0 ? describeExecutors(executors, executorConfigs) : undefined,
  });
  client.start();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const { reset } = await client.stop(config.drainTimeoutMs);
      if (reset > 0) log("drain_timeout", { reset });
      await closeUpstreams(all, log);
      log("stopped", { gatewayId });
    })();
    return stopping;
  };
  return { gatewayId, client, upstreams, stop };
}

/** Closes upstreams side by side; one that fails is logged and does not keep the others open. */
async function closeUpstreams(list: readonly Upstream<UpstreamKind>[], log: Logger): Promise<void> {
  await Promise.all(
    list.map((upstream) =>
      upstream.close().catch((error: unknown) => {
        log("upstream_close_failed", { server: upstream.name, error: describeError(error) });
      }),
    ),
  );
}

/** `main(executor:/srv/tether/main,bwrap)`: where each executor works and how it isolates. */
function describeExecutors(executors: readonly ExecutorUpstream[], configs: readonly NamedExecutorConfig[]): string {
  return executors
    .map(({ announcement: { name, isolate } }) => {
      const dir = configs.find((config) => config.name === name)?.executor.dir;
      return `${name}(executor:${dir ? `${dir},` : ""}${isolate})`;
    })
    .join(",");
}

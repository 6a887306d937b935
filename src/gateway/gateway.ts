/**
 * A running gateway: the upstreams for its configured servers and the tunnel connection that
 * relays agents' requests to them. `stop()` is the orderly end (what SIGTERM/SIGINT trigger):
 * drain the tunnel, then close every upstream, which stops every stdio child.
 */
import { randomUUID } from "node:crypto";
import pkg from "../../package.json" with { type: "json" };
import { type ExecutorAnnouncement, executorNameOf } from "../protocol/executor-api.ts";
import type { Hello } from "../protocol/messages.ts";
import { Feature, TUNNEL_PROTOCOL_VERSION } from "../protocol/version.ts";
import type { BackoffOptions } from "../retry/backoff.ts";
import { connectUrl, type GatewayConfig, isCleartextRemote } from "./config.ts";
import { GatewayConfigError } from "./load-config.ts";
import { describeError, type Logger, stderrLogger } from "./log.ts";
import { TunnelClient } from "./tunnel-client.ts";
import type { Upstream } from "./upstream.ts";
import { createUpstream } from "./upstreams.ts";

export const GATEWAY_VERSION: string = pkg.version;

export interface GatewayOptions {
  log?: Logger;
  backoff?: BackoffOptions;
  /** Replaces the upstreams built from the config (tests). */
  upstreams?: Upstream[];
  /** Executors announced in Hello; their upstreams (named `executor:NAME`) are among `upstreams`. */
  executors?: ExecutorAnnouncement[];
}

export interface RunningGateway {
  readonly gatewayId: string;
  readonly client: TunnelClient;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  /** Drains the tunnel (bounded by the config's drainTimeoutMs) and closes every upstream. Idempotent. */
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const log = options.log ?? stderrLogger;
  const list = options.upstreams ?? (await Promise.all(config.servers.map((server) => createUpstream(server, log))));
  const upstreams = new Map(list.map((upstream) => [upstream.name, upstream]));
  const gatewayId = `gw-${randomUUID()}`;
  const hello: Hello = {
    protocol: TUNNEL_PROTOCOL_VERSION,
    gatewayId,
    version: GATEWAY_VERSION,
    servers: list
      .filter(({ name }) => executorNameOf(name) === null)
      .map(({ name, kind, allowPaths }) => ({ name, kind, allowPaths: [...allowPaths] })),
    features: [Feature.inlineBodies],
    executors: options.executors ?? [],
  };
  const url = connectUrl(config.edge, config.tunnel);
  if (isCleartextRemote(config.edge)) {
    if (!config.insecure) {
      throw new GatewayConfigError([
        `edge "${config.edge}": the gateway token would cross the network unencrypted; use https:// or set insecure`,
      ]);
    }
    log("insecure_edge", { edge: config.edge, hint: "the gateway token travels unencrypted; use https://" });
  }
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
    servers: list.map((upstream) => `${upstream.name}(${upstream.kind})`).join(","),
  });
  client.start();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const { reset } = await client.stop(config.drainTimeoutMs);
      if (reset > 0) log("drain_timeout", { reset });
      await Promise.all(
        list.map((upstream) =>
          upstream.close().catch((error: unknown) => {
            log("upstream_close_failed", { server: upstream.name, error: describeError(error) });
          }),
        ),
      );
      log("stopped", { gatewayId });
    })();
    return stopping;
  };
  return { gatewayId, client, upstreams, stop };
}

import type { ManagedEnvironment } from "../durable-objects/managed-environment.ts";
import type { Registry } from "../durable-objects/registry.ts";
import type { Sandbox } from "../durable-objects/sandbox.ts";
import type { SessionRunner } from "../durable-objects/session-runner.ts";
import type { TunnelRelay } from "../durable-objects/tunnel-relay.ts";

/** Bindings of the edge Worker (see wrangler.toml). */
export interface Env {
  TETHER_ADMIN_TOKEN?: string;
  TUNNEL_RELAY: DurableObjectNamespace<TunnelRelay>;
  SANDBOX: DurableObjectNamespace<Sandbox>;
  REGISTRY: DurableObjectNamespace<Registry>;
  MANAGED_ENVIRONMENT: DurableObjectNamespace<ManagedEnvironment>;
  SESSION_RUNNER: DurableObjectNamespace<SessionRunner>;
  LOADER: WorkerLoader;
}

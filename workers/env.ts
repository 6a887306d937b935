import type { ManagedEnvironment } from "../durable-objects/managed-environment.ts";
import type { Registry } from "../durable-objects/registry.ts";
import type { Sandbox } from "../durable-objects/sandbox.ts";
import type { SessionRunner } from "../durable-objects/session-runner.ts";
import type { TunnelRelay } from "../durable-objects/tunnel-relay.ts";
import type { Operator } from "../src/auth/operator.ts";

/** Bindings of the edge Worker (see wrangler.toml). */
export interface Env {
  TETHER_ADMIN_TOKEN?: string;
  /** Cloudflare Access: the team domain (`team.cloudflareaccess.com`) whose JWTs operators may sign in with. */
  ACCESS_TEAM_DOMAIN?: string;
  /** Cloudflare Access: the application audience tag its JWTs must carry. */
  ACCESS_AUD?: string;
  TUNNEL_RELAY: DurableObjectNamespace<TunnelRelay>;
  SANDBOX: DurableObjectNamespace<Sandbox>;
  REGISTRY: DurableObjectNamespace<Registry>;
  MANAGED_ENVIRONMENT: DurableObjectNamespace<ManagedEnvironment>;
  SESSION_RUNNER: DurableObjectNamespace<SessionRunner>;
  LOADER: WorkerLoader;
}

/** The Hono environment of every edge route: bindings, and the operator once admin routes know them. */
export interface EdgeEnv {
  Bindings: Env;
  Variables: { operator: Operator };
}

/** Console routes: the operator, and the CSRF token every form and action of theirs must carry. */
export interface ConsoleEnv {
  Bindings: Env;
  Variables: { operator: Operator; csrfToken: string };
}

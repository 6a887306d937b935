import { Hono } from "hono";
import { errorResponse } from "../src/errors/error-response.ts";
import { TetherError } from "../src/errors/tether-error.ts";
import type { EdgeEnv } from "./env.ts";
import { adminAuditRoutes } from "./routes/admin-audit.ts";
import { adminConsoleRoutes } from "./routes/admin-console.ts";
import { adminEnvironmentsRoutes } from "./routes/admin-environments.ts";
import { adminMetricsRoutes } from "./routes/admin-metrics.ts";
import { adminSandboxesRoutes } from "./routes/admin-sandboxes.ts";
import { adminTokensRoutes } from "./routes/admin-tokens.ts";
import { adminTunnelsRoutes } from "./routes/admin-tunnels.ts";
import { consoleRoutes } from "./routes/console.ts";
import { managedAgentsRoutes } from "./routes/managed-agents.ts";
import { sandboxesRoutes } from "./routes/sandboxes.ts";
import { tunnelsRoutes } from "./routes/tunnels.ts";

export { ManagedEnvironment } from "../durable-objects/managed-environment.ts";
export { Registry } from "../durable-objects/registry.ts";
export { Sandbox } from "../durable-objects/sandbox.ts";
export { SessionRunner } from "../durable-objects/session-runner.ts";
export { TunnelRelay } from "../durable-objects/tunnel-relay.ts";
export { EgressGate } from "../src/sandbox/run-code/egress-gate.ts";

const app = new Hono<EdgeEnv>();

// The cheapest route the Worker has: benchmarks use it as the edge's floor.
app.get("/ping", (c) => c.text("pong"));

app.route("/admin", adminTunnelsRoutes);
app.route("/admin", adminSandboxesRoutes);
app.route("/admin", adminTokensRoutes);
app.route("/admin", adminEnvironmentsRoutes);
app.route("/admin", adminAuditRoutes);
app.route("/admin", adminMetricsRoutes);
app.route("/admin", adminConsoleRoutes);
app.route("/console", consoleRoutes);
app.route("/managed-agents", managedAgentsRoutes);
app.route("/t", tunnelsRoutes);
app.route("/v1/sandboxes", sandboxesRoutes);

app.notFound(() => errorResponse(new TetherError("not_found", "no such route")));
app.onError((error) => errorResponse(error));

export default app;

/**
 * `npm start`: the local Tether. Runs the edge in workerd (`wrangler dev`, 127.0.0.1:8787), issues
 * tokens for a demo tunnel, starts a gateway that serves the MCP reference server
 * (`@modelcontextprotocol/server-everything`) over stdio and an executor in a temporary folder,
 * creates a demo sandbox at the edge and one on the gateway's executor, and prints what an agent
 * should call, and the operator console's address with a one-time sign-in link (one click signs
 * the local operator in). Ctrl-C stops everything it started and removes the folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminApi, AdminApiError } from "../src/cli/admin-connection.ts";
import { demoGatewayLaunch } from "./demo-gateway.ts";
import { adminToken, EDGE, onStopped, ROOT, startChild, startLocalEdge, stopAll, stopOnSignals } from "./local-edge.ts";

const TUNNEL = "demo";
const SERVER = "everything";
const EXECUTOR = "main";

/** Creates a sandbox on the demo gateway's executor, waiting for the gateway to connect and announce it (503 until then). */
async function createGatewaySandbox(admin: AdminApi): Promise<{ id: string; token: string }> {
  const backend = { type: "gateway", tunnel: TUNNEL, executor: EXECUTOR };
  for (let attempt = 0; ; attempt++) {
    try {
      return (await admin.call("POST", "/v1/sandboxes", { id: "demo-gateway", backend })) as {
        id: string;
        token: string;
      };
    } catch (error) {
      if (!(error instanceof AdminApiError) || error.status !== 503 || attempt >= 120) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Creates the demo tunnel, or issues fresh tokens for it (tokens are only ever shown once). */
async function demoTunnelTokens(admin: AdminApi): Promise<{ gateway: string; agent: string }> {
  try {
    const created = (await admin.call("POST", "/admin/tunnels", { name: TUNNEL })) as {
      gatewayToken: string;
      agentToken: string;
    };
    return { gateway: created.gatewayToken, agent: created.agentToken };
  } catch (error) {
    if (!(error instanceof AdminApiError) || error.status !== 409) throw error;
    const issue = async (role: string) =>
      ((await admin.call("POST", `/admin/tunnels/${TUNNEL}/tokens`, { role })) as { token: string }).token;
    return { gateway: await issue("gateway"), agent: await issue("agent") };
  }
}

async function main(): Promise<void> {
  stopOnSignals();
  const token = adminToken();
  await startLocalEdge();

  const admin = new AdminApi(EDGE, token);
  const tokens = await demoTunnelTokens(admin);
  // The executor's workspaces live in a folder of their own, removed once the gateway has exited.
  const workspaces = mkdtempSync(join(tmpdir(), "tether-demo-executor-"));
  onStopped(() => rmSync(workspaces, { recursive: true, force: true }));
  const everything = createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/dist/index.js");
  const gateway = demoGatewayLaunch({
    node: process.execPath,
    main: `${ROOT}src/cli/main.ts`,
    edge: EDGE,
    tunnel: TUNNEL,
    token: tokens.gateway,
    server: `${SERVER}=stdio:${process.execPath} ${everything} stdio`,
    executor: `${EXECUTOR}=${workspaces}`,
    // Executors refuse root unless told: their sandboxes' commands would run as root.
    allowRoot: process.getuid?.() === 0,
  });
  startChild("gateway", gateway.command, gateway.args, gateway.env);
  const sandbox = (await admin.call("POST", "/v1/sandboxes", { id: "demo" })) as { id: string; token: string };
  const onGateway = await createGatewaySandbox(admin);

  const signIn = (await admin.call("POST", "/admin/console/sign-in-links")) as { url: string; expiresAt: string };

  const mcpUrl = `${EDGE}/t/${TUNNEL}/${SERVER}/mcp`;
  const toolCall = JSON.stringify({
    type: "tool_use",
    id: "toolu_1",
    name: "bash",
    input: { command: "echo hello from the sandbox > hello.txt; cat hello.txt; ls -l" },
  });
  const curl = (box: { id: string; token: string }) =>
    `curl -sN -H 'authorization: Bearer ${box.token}' -H 'content-type: application/json' -H 'accept: application/x-ndjson' -d '${toolCall}' ${EDGE}/v1/sandboxes/${box.id}/tool-calls`;
  console.log(`
Tether is running (edge in workerd at ${EDGE}; Ctrl-C stops everything).

MCP tunnel "${TUNNEL}": server "${SERVER}" runs over stdio behind a local gateway.
  endpoint     ${mcpUrl}
  agent token  ${tokens.agent}
  try:         npm exec tether -- call --url ${mcpUrl} --token ${tokens.agent} --tool echo --args '{"message":"hello"}'

Sandbox "${sandbox.id}": tool calls run at the edge with a persistent filesystem.
  endpoint     ${EDGE}/v1/sandboxes/${sandbox.id}/tool-calls   (MCP: ${EDGE}/v1/sandboxes/${sandbox.id}/mcp)
  token        ${sandbox.token}
  try:         ${curl(sandbox)}

Sandbox "${onGateway.id}": the same API, but real bash and real files on this machine (executor "${EXECUTOR}"
of the demo gateway, in ${workspaces}).
  token        ${onGateway.token}
  try:         ${curl(onGateway)}

Operator console: ${EDGE}/console
  sign in      ${signIn.url}
               (one click signs you in; the link works once, until ${signIn.expiresAt}; afterwards sign in with
               TETHER_ADMIN_TOKEN from .dev.vars)
  admin API    curl -s -H 'authorization: Bearer <TETHER_ADMIN_TOKEN from .dev.vars>' ${EDGE}/admin/tunnels/${TUNNEL}
`);
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});

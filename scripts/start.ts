/**
 * `npm start`: the local Tether. Runs the edge in workerd (`wrangler dev`, 127.0.0.1:8787), issues
 * tokens for a demo tunnel, starts a gateway that serves the MCP reference server
 * (`@modelcontextprotocol/server-everything`) over stdio, creates a demo sandbox, and prints what
 * an agent should call. Ctrl-C stops everything it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { AdminApi, AdminApiError } from "../src/cli/tunnel-command.ts";
import { demoGatewayLaunch } from "./demo-gateway.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PORT = Number(process.env.TETHER_PORT ?? 8787);
const EDGE = `http://127.0.0.1:${PORT}`;
const TUNNEL = "demo";
const SERVER = "everything";
const children: ChildProcess[] = [];

function adminToken(): string {
  const path = `${ROOT}.dev.vars`;
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "";
  const match = /^TETHER_ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(existing);
  if (match) return match[1] as string;
  const token = `adm_${randomBytes(24).toString("hex")}`;
  writeFileSync(path, `${existing}${existing && !existing.endsWith("\n") ? "\n" : ""}TETHER_ADMIN_TOKEN="${token}"\n`);
  console.log("wrote a new admin token to .dev.vars");
  return token;
}

function start(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => `[${label}] ${line}`)
      .join("\n");
  child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(`${prefix(chunk)}\n`));
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(`${prefix(chunk)}\n`));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[${label}] exited (${signal ?? code}); stopping`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitForEdge(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${EDGE}/ping`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the edge did not answer on ${EDGE} within ${timeoutMs / 1000} s`);
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

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGTERM");
  await Promise.all(
    children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : null)),
  );
  process.exit(code);
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  const token = adminToken();
  const wranglerEnv = {
    WRANGLER_SEND_METRICS: "false",
    XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME ?? `${ROOT}.wrangler/config`,
  };
  // wrangler's package exports do not include its bin script: locate it beside its package.json.
  const wrangler = createRequire(import.meta.url)
    .resolve("wrangler/package.json")
    .replace(/package\.json$/, "bin/wrangler.js");
  start("edge", process.execPath, [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(PORT)], wranglerEnv);
  await waitForEdge(60_000);

  const admin = new AdminApi(EDGE, token);
  const tokens = await demoTunnelTokens(admin);
  const everything = createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/dist/index.js");
  const gateway = demoGatewayLaunch({
    node: process.execPath,
    main: `${ROOT}src/cli/main.ts`,
    edge: EDGE,
    tunnel: TUNNEL,
    token: tokens.gateway,
    server: `${SERVER}=stdio:${process.execPath} ${everything} stdio`,
  });
  start("gateway", gateway.command, gateway.args, gateway.env);
  const sandbox = (await admin.call("POST", "/v1/sandboxes", { id: "demo" })) as { id: string; token: string };

  const mcpUrl = `${EDGE}/t/${TUNNEL}/${SERVER}/mcp`;
  const toolCall = JSON.stringify({
    type: "tool_use",
    id: "toolu_1",
    name: "bash",
    input: { command: "echo hello from the sandbox > hello.txt; cat hello.txt; ls -l" },
  });
  console.log(`
Tether is running (edge in workerd at ${EDGE}; Ctrl-C stops everything).

MCP tunnel "${TUNNEL}": server "${SERVER}" runs over stdio behind a local gateway.
  endpoint     ${mcpUrl}
  agent token  ${tokens.agent}
  try:         npm exec tether -- call --url ${mcpUrl} --token ${tokens.agent} --tool echo --args '{"message":"hello"}'

Sandbox "${sandbox.id}": tool calls run at the edge with a persistent filesystem.
  endpoint     ${EDGE}/v1/sandboxes/${sandbox.id}/tool-calls   (MCP: ${EDGE}/v1/sandboxes/${sandbox.id}/mcp)
  token        ${sandbox.token}
  try:         curl -sN -H 'authorization: Bearer ${sandbox.token}' -H 'content-type: application/json' -H 'accept: application/x-ndjson' -d '${toolCall}' ${EDGE}/v1/sandboxes/${sandbox.id}/tool-calls

Operators: curl -s -H 'authorization: Bearer <TETHER_ADMIN_TOKEN from .dev.vars>' ${EDGE}/admin/tunnels/${TUNNEL}
`);
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  void stop(1);
});

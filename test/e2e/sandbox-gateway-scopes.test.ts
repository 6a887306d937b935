/**
 * Who may place sandboxes on a gateway's executor (API tokens' `backends` scope), and the other
 * faces of a gateway sandbox: the MCP face and the Managed Agents toolset RPC. Real edge,
 * in-process gateways, TEST executors (test/helpers/test-executor-upstream.ts) with real bash.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT, type RunningEdge, startEdge } from "../helpers/edge.ts";
import { type ExecutorGateway, startExecutorGateway } from "../helpers/executor-gateway.ts";
import { createTunnel } from "../helpers/mcp-client.ts";
import { sandboxApi, withBearer } from "../helpers/sandbox-api.ts";

let edge: RunningEdge;
const gateways: Record<"a" | "b", ExecutorGateway | undefined> = { a: undefined, b: undefined };

beforeAll(async () => {
  edge = await startEdge({
    workers: [
      {
        name: "sandbox-toolset-test",
        entry: join(ROOT, "test/e2e/sandbox-toolset-worker.ts"),
        routes: ["*/test/sandbox/*"],
        durableObjects: { SANDBOX: { edgeClass: "Sandbox" } },
      },
    ],
  });
  const [a, b] = await Promise.all([createTunnel(edge, "tunnel-a"), createTunnel(edge, "tunnel-b")]);
  gateways.a = await startExecutorGateway(edge, "tunnel-a", a.gatewayToken, { instance: "a-1" });
  gateways.b = await startExecutorGateway(edge, "tunnel-b", b.gatewayToken, { instance: "b-1" });
});

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((gateway) => gateway?.cleanup()));
  await edge?.close();
});

const api = sandboxApi(
  (path, token, init = {}) =>
    fetch(`${edge.url}${path}`, { ...init, headers: withBearer(init, token), signal: AbortSignal.timeout(60_000) }),
  () => edge.adminToken,
);
const post = (path: string, token: string, body: unknown) =>
  api.call(path, token, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const on = (tunnel: string, executor = "main") => ({ type: "gateway", tunnel, executor });

async function apiToken(body: Record<string, unknown>): Promise<{ token: string; backends: string[] }> {
  const res = await post("/admin/tokens", edge.adminToken, body);
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; backends: string[] };
}

async function message(res: Response): Promise<string> {
  return ((await res.json()) as { error: { message: string } }).error.message;
}

test("API tokens place sandboxes only on the backends they were granted (tunnel A vs tunnel B)", async () => {
  const plain = await apiToken({ label: "edge only (the default)" });
  expect(plain.backends).toEqual(["edge"]);
  const onA = await apiToken({ label: "tunnel A", backends: ["gateway:tunnel-a"] });
  const onBMain = await apiToken({ label: "tunnel B's main", backends: ["edge", "gateway:tunnel-b/main"] });

  // The default keeps today's behaviour: edge sandboxes yes, a customer machine no.
  expect((await post("/v1/sandboxes", plain.token, {})).status).toBe(201);
  const refused = await post("/v1/sandboxes", plain.token, { id: "plain-a", backend: on("tunnel-a") });
  expect(refused.status).toBe(403);
  expect(await message(refused)).toContain('may not place sandboxes on backend "gateway:tunnel-a/main"');
  expect((await api.call("/v1/sandboxes/plain-a", edge.adminToken)).status).toBe(404);

  const a = await post("/v1/sandboxes", onA.token, { backend: on("tunnel-a") });
  expect(a.status).toBe(201);
  expect((await post("/v1/sandboxes", onA.token, { backend: on("tunnel-b") })).status).toBe(403);
  expect((await post("/v1/sandboxes", onA.token, {})).status).toBe(403);

  expect((await post("/v1/sandboxes", onBMain.token, { backend: on("tunnel-b") })).status).toBe(201);
  expect((await post("/v1/sandboxes", onBMain.token, { backend: on("tunnel-b", "other") })).status).toBe(403);
  expect((await post("/v1/sandboxes", onBMain.token, { backend: on("tunnel-a") })).status).toBe(403);
  expect((await post("/v1/sandboxes", onBMain.token, {})).status).toBe(201);

  // The admin token may use any backend; the listing shows each token's scope.
  expect((await post("/v1/sandboxes", edge.adminToken, { backend: on("tunnel-b") })).status).toBe(201);
  const listed = (await (await api.call("/admin/tokens", edge.adminToken)).json()) as {
    tokens: { label: string; backends: string[] }[];
  };
  expect(listed.tokens.find((token) => token.label === "tunnel A")?.backends).toEqual(["gateway:tunnel-a"]);
});

test("a token request with a backend scope outside the grammar is refused, naming the grammar", async () => {
  for (const backends of [["gateway:"], ["gateway:Tunnel"], ["cloud"], [], ["gateway:a/b/c"]]) {
    const res = await post("/admin/tokens", edge.adminToken, { label: "bad", backends });
    expect(res.status, JSON.stringify(backends)).toBe(400);
  }
  const res = await post("/admin/tokens", edge.adminToken, { label: "bad", backends: ["cloud"] });
  expect(await message(res)).toContain('"gateway:TUNNEL/EXECUTOR"');
});

test("the MCP face and the Managed Agents toolset of a gateway sandbox run on the executor", async () => {
  const sandbox = await api.create({ backend: on("tunnel-a") });
  const transport = new StreamableHTTPClientTransport(new URL(sandbox.endpoints.mcp!), {
    requestInit: { headers: { authorization: `Bearer ${sandbox.token}` } },
  });
  const client = new Client({ name: "tether-e2e", version: "1.0.0" });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: "bash", arguments: { command: "echo from-mcp > m.txt; pwd" } });
    expect(result.isError).toBe(false);
    const workspace = join(gateways.a!.root, sandbox.id, "workspace");
    expect((result.content as { text: string }[])[0]?.text).toContain(workspace);
    expect(readFileSync(join(workspace, "m.txt"), "utf8")).toBe("from-mcp\n");
  } finally {
    await client.close();
  }

  const toolset = async (toolUse: Record<string, unknown>, options?: Record<string, unknown>) => {
    const res = await post(`/test/sandbox/${sandbox.id}/toolset`, "unused", { toolUse, options });
    expect(res.status).toBe(200);
    return (await res.json()) as { owned: boolean; result?: { content: { text: string }[]; is_error: boolean } };
  };
  const read = await toolset({ id: "tu_1", name: "read", input: { file_path: "/workspace/m.txt" } });
  expect(read.owned).toBe(true);
  expect(read.result?.is_error).toBe(false);
  expect(read.result?.content[0]?.text).toContain("from-mcp");
  const bash = await toolset({ id: "tu_2", name: "bash", input: { command: "exit 4" } });
  expect(bash.result?.content[0]?.text).toContain("exit code: 4");
  expect((await toolset({ id: "tu_3", name: "web_search", input: {} })).owned).toBe(false);
  const memory = await toolset(
    { id: "tu_4", name: "read", input: { file_path: "/mnt/memory/x" } },
    { extraRoots: ["/mnt/memory"] },
  );
  expect(memory.result?.is_error).toBe(true);
  expect(memory.result?.content[0]?.text).toContain("not available on a gateway's executor");
});

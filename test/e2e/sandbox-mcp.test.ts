import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, expect, test } from "vitest";
import { type Created, sandboxEdge } from "./sandbox-helpers.ts";

const sb = sandboxEdge();
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function connect(sandbox: Created): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(sandbox.endpoints.mcp!), {
    requestInit: { headers: { authorization: `Bearer ${sandbox.token}` } },
  });
  const client = new Client({ name: "tether-e2e", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

function text(result: Awaited<ReturnType<Client["callTool"]>>): string {
  return (result.content as Array<{ text: string }>).map((c) => c.text).join("");
}

test("the official MCP client lists the sandbox's tools and calls bash", async () => {
  const client = await connect(await sb.create());
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["bash", "read", "write", "run_code"]));
  const result = await client.callTool({ name: "bash", arguments: { command: "echo $((6 * 7)); pwd" } });
  expect(result.isError).toBe(false);
  expect(text(result)).toBe("42\n/workspace\n");
});

test("write then read over MCP; HTTP callers and other MCP clients share the same files and shell", async () => {
  const sandbox = await sb.create();
  const one = await connect(sandbox);
  const two = await connect(sandbox);
  await one.callTool({ name: "write", arguments: { file_path: "/workspace/shared.txt", content: "written by one\n" } });
  const read = await two.callTool({ name: "read", arguments: { file_path: "shared.txt" } });
  expect(text(read)).toContain("written by one");
  await one.callTool({ name: "bash", arguments: { command: "cd /tmp && export SHARED=yes" } });
  expect((await sb.bash(sandbox, 'pwd; echo "$SHARED"')).text).toBe("/tmp\nyes\n");
});

test("the MCP face survives eviction: no session to lose", async () => {
  const sandbox = await sb.create();
  const client = await connect(sandbox);
  await client.callTool({ name: "write", arguments: { file_path: "a.txt", content: "kept" } });
  await sb.edge().evict("SANDBOX", sandbox.id);
  const read = await client.callTool({ name: "bash", arguments: { command: "cat a.txt" } });
  expect(text(read)).toBe("kept");
});

test("a token for another sandbox cannot reach this one's MCP face", async () => {
  const mine = await sb.create();
  const other = await sb.create();
  const transport = new StreamableHTTPClientTransport(new URL(other.endpoints.mcp!), {
    requestInit: { headers: { authorization: `Bearer ${mine.token}` } },
  });
  const client = new Client({ name: "intruder", version: "1.0.0" });
  await expect(client.connect(transport)).rejects.toThrow(/404|no such sandbox/);
});

import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { TOOL_NAMES } from "../../src/sandbox/tools/registry.ts";
import { type Created, call, createSandbox, textOf, warmUp } from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(sandbox: Created): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`http://edge/v1/sandboxes/${sandbox.id}/mcp`), {
    fetch: (url, init) => exports.default.fetch(url, init),
    requestInit: { headers: { authorization: `Bearer ${sandbox.token}` } },
  });
  const client = new Client({ name: "sandbox-mcp-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

function text(result: Awaited<ReturnType<Client["callTool"]>>): string {
  return (result.content as Array<{ type: string; text: string }>).map((c) => c.text).join("");
}

describe("MCP face", () => {
  test("lists the same tools as tool-calls, with JSON Schema inputs", async () => {
    const client = await connect(await createSandbox());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    const write = tools.find((t) => t.name === "write")!;
    expect(write.inputSchema).toMatchObject({ type: "object", properties: { file_path: {}, content: {} } });
  });

  test("write then read, and the HTTP side sees the same files", async () => {
    const sandbox = await createSandbox();
    const client = await connect(sandbox);
    const written = await client.callTool({ name: "write", arguments: { file_path: "mcp.txt", content: "via mcp\n" } });
    expect(written.isError).toBe(false);
    const read = await client.callTool({ name: "read", arguments: { file_path: "/workspace/mcp.txt" } });
    expect(text(read)).toContain("via mcp");
    const raw = await call(`/v1/sandboxes/${sandbox.id}/files/workspace/mcp.txt`, sandbox.token);
    expect(await textOf(raw)).toBe("via mcp\n");
  });

  test("tool output is streamed as progress notifications when the client asks for progress", async () => {
    const client = await connect(await createSandbox());
    const progress: string[] = [];
    const result = await client.callTool({ name: "bash", arguments: { command: "echo streamed" } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    expect(text(result)).toBe("streamed\n");
    expect(progress).toEqual(["streamed\n"]);
  });

  test("bad input and unknown tools come back as isError results", async () => {
    const client = await connect(await createSandbox());
    const bad = await client.callTool({ name: "read", arguments: {} });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain("file_path");
    const unknown = await client.callTool({ name: "teleport", arguments: {} });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain("known tools");
  });

  test("stateless: no session id, GET and DELETE are 405, other sandboxes' tokens 404", async () => {
    const sandbox = await createSandbox();
    const other = await createSandbox();
    const init = await call(`/v1/sandboxes/${sandbox.id}/mcp`, sandbox.token, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
      }),
    });
    expect(init.status).toBe(200);
    expect(init.headers.get("mcp-session-id")).toBeNull();
    await init.body?.cancel();
    for (const method of ["GET", "DELETE"]) {
      const res = await call(`/v1/sandboxes/${sandbox.id}/mcp`, sandbox.token, {
        method,
        headers: { accept: "text/event-stream" },
      });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    }
    expect((await call(`/v1/sandboxes/${other.id}/mcp`, sandbox.token, { method: "POST", body: "{}" })).status).toBe(
      404,
    );
  });
});

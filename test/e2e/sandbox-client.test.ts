/** The orchestrator client (src/client) against the real edge: the same calls the README's agent loop makes. */
import { createHash } from "node:crypto";
import { unpackTar } from "modern-tar";
import { afterAll, beforeAll, expect, test } from "vitest";
import { TetherApiError, TetherClient, type ToolCallEvent } from "../../src/client/sandbox-client.ts";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";

let edge: RunningEdge;
let client: TetherClient;
beforeAll(async () => {
  edge = await startEdge();
  client = new TetherClient({ edge: edge.url, token: edge.adminToken });
});
afterAll(async () => {
  await edge?.close();
});

test("runs tool_use blocks in order and yields events as they come", async () => {
  const sandbox = await client.createSandbox({ id: "client-events" });
  const events: ToolCallEvent[] = [];
  for await (const event of sandbox.runToolCalls([
    { type: "tool_use", id: "toolu_a", name: "write", input: { file_path: "greeting.txt", content: "hello\n" } },
    { type: "tool_use", id: "toolu_b", name: "bash", input: { command: "cat greeting.txt; exit 3" } },
  ])) {
    events.push(event);
  }
  const kinds = events.filter((e) => e.event !== "output" && e.event !== "heartbeat").map((e) => e.event);
  expect(kinds).toEqual(["started", "result", "started", "result", "done"]);
  const results = events.flatMap((e) => (e.event === "result" ? [e] : []));
  expect(results.map((r) => r.result.tool_use_id)).toEqual(["toolu_a", "toolu_b"]);
  const bash = results[1]!;
  expect(JSON.stringify(bash.result.content)).toContain("hello");
  expect(JSON.stringify(bash.result.content)).toContain("exit code: 3");
  expect(bash.result.is_error).toBe(false);
  expect(bash.meta.exit_code).toBe(3);
});

test("toolResults returns exactly the blocks for Claude's next user message", async () => {
  const sandbox = await client.createSandbox({ id: "client-results" });
  const results = await sandbox.toolResults([
    { type: "tool_use", id: "toolu_1", name: "bash", input: { command: "echo 42" } },
    { type: "tool_use", id: "toolu_2", name: "no_such_tool", input: {} },
  ]);
  expect(results).toHaveLength(2);
  expect(results[0]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_1", is_error: false });
  expect(results[1]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_2", is_error: true });
  expect(JSON.stringify(results[1]!.content)).toContain("bash");
});

test("moves files in and out, relative paths landing in /workspace", async () => {
  const sandbox = await client.createSandbox({ id: "client-files" });
  const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
  await sandbox.putFile("data/blob.bin", bytes);
  const back = new Uint8Array(await new Response(await sandbox.getFile("/workspace/data/blob.bin")).arrayBuffer());
  expect(createHash("sha256").update(back).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));

  await sandbox.putFile("notes.md", "# notes\n");
  expect(await sandbox.readText("notes.md")).toBe("# notes\n");

  const entries = await unpackTar(new Uint8Array(await new Response(await sandbox.exportTar()).arrayBuffer()));
  const names = entries.map((e) => e.header.name);
  expect(names.some((n) => n.endsWith("workspace/notes.md"))).toBe(true);
  expect(names.some((n) => n.endsWith("workspace/data/blob.bin"))).toBe(true);
});

test("errors carry the edge's status and message; a destroyed sandbox is gone", async () => {
  const sandbox = await client.createSandbox({ id: "client-gone" });
  await sandbox.destroy();
  const error = await sandbox.readText("anything.txt").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TetherApiError);
  expect((error as TetherApiError).status).toBe(404);

  const stranger = new TetherClient({ edge: edge.url, token: "tth.api.nope.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
  const denied = await stranger.createSandbox().catch((e: unknown) => e);
  expect(denied).toBeInstanceOf(TetherApiError);
  expect((denied as TetherApiError).status).toBe(401);
});

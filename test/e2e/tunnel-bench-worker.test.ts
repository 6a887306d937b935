/**
 * The WebSocket echo the benchmarks measure the edge's floor with is not part of the edge: it lives
 * in a bench-only Worker (bench/workers/ws-echo-worker.ts) that the Miniflare helper runs beside
 * the edge, and the bundle `wrangler deploy` would upload has no trace of it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openEchoSocket } from "../../bench/lib/ws-echo.ts";
import { echoSocketUrl, WS_ECHO_WORKER } from "../../bench/workers/ws-echo.ts";
import { ROOT, type RunningEdge, startEdge } from "../helpers/edge.ts";
import { edgeBundle } from "../helpers/edge-bundle.ts";
import { createTunnel } from "../helpers/mcp-client.ts";

let edge: RunningEdge;
beforeAll(async () => {
  edge = await startEdge({ workers: [WS_ECHO_WORKER] });
});
afterAll(async () => {
  await edge?.close();
});

test("the bench Worker echoes binary and text frames unchanged, beside the edge", async () => {
  const socket = await openEchoSocket(echoSocketUrl(edge.url, "floor"), {});
  try {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    expect(new Uint8Array(await socket.roundTrip(bytes))).toEqual(bytes);
    const large = new Uint8Array(64 * 1024).fill(9);
    expect((await socket.roundTrip(large)).byteLength).toBe(large.byteLength);
  } finally {
    await socket.close();
  }
  const plain = await fetch(`${edge.url}/bench/echo/floor`);
  expect(plain.status).toBe(400);
  await plain.arrayBuffer();
  // Everything else still reaches the edge.
  const ping = await fetch(`${edge.url}/ping`);
  expect(await ping.text()).toBe("pong");
});

test("the edge itself has no echo route, and its deployable bundle has no echo socket", async () => {
  await createTunnel(edge, "corp");
  const admin = { authorization: `Bearer ${edge.adminToken}` };
  const wsUrl = `${edge.url.replace(/^http/, "ws")}/admin/tunnels/corp/echo`;
  await expect(openEchoSocket(wsUrl, admin)).rejects.toThrow(/refused: 404/);
  const res = await fetch(`${edge.url}/admin/tunnels/corp/echo`, { headers: admin });
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: { code: "not_found", message: "no such route" } });
  const bundle = await edgeBundle(ROOT, join(ROOT, "wrangler.toml"), "edge.js");
  const code = bundle.modules.map((module) => readFileSync(module.path, "utf8")).join("\n");
  expect(code).toContain("TunnelRelay");
  expect(code).not.toContain("echo closed");
  expect(code).not.toMatch(/tunnels\/[^"'`]*\/echo/);
  expect(readFileSync(WS_ECHO_WORKER.entry, "utf8")).toContain("echo closed");
});

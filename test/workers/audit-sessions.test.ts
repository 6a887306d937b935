import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import type { Page } from "../../src/audit/trace-query.ts";
import {
  admin,
  adminJson,
  agentFetch,
  createTunnel,
  initializeBody,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  warmUpEdge,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

interface SessionRow {
  server: string;
  id: string;
  lastUsedAt: number;
  gatewayConnected: boolean;
}
async function openSession(tunnel: Awaited<ReturnType<typeof createTunnel>>, gateway: SimGateway, id: string) {
  const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: initializeBody() });
  const { stream } = await gateway.nextRequest();
  gateway.respond(stream, 200, [...JSON_HEADERS, ["mcp-session-id", id]], '{"jsonrpc":"2.0","id":1,"result":{}}');
  await (await call).arrayBuffer();
}

describe("sessions, paged", () => {
  test("10,000 sessions page through completely, most recently used first, all or one server's", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name), (_instance, state) => {
      // Many sessions share a last-use time, so the cursor must break ties by server and id.
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
         INSERT INTO sessions SELECT CASE WHEN i % 4 = 0 THEN 'files' ELSE 'echo' END, 'sess-' || i, 'tok', 'gw',
           NULL, NULL, '2025-06-18', ?, ? - (i / 10) FROM n`,
        now,
        now,
      );
    });
    const seen: SessionRow[] = [];
    let cursor: string | number | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "?limit=500" : `?limit=500&before=${cursor}`;
      const page: Page<SessionRow> = await adminJson("GET", `/admin/tunnels/${tunnel.name}/sessions${query}`);
      seen.push(...page.rows);
      cursor = page.next;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(20);
    expect(new Set(seen.map((row) => `${row.server}/${row.id}`)).size).toBe(10_000);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i - 1]!.lastUsedAt).toBeGreaterThanOrEqual(seen[i]!.lastUsedAt);
    }
    const files: SessionRow[] = [];
    cursor = null;
    do {
      const query: string = cursor === null ? "?server=files&limit=300" : `?server=files&limit=300&before=${cursor}`;
      const page: Page<SessionRow> = await adminJson("GET", `/admin/tunnels/${tunnel.name}/sessions${query}`);
      files.push(...page.rows);
      cursor = page.next;
    } while (cursor !== null);
    expect(files).toHaveLength(2500);
    expect(files.every((row) => row.server === "files" && row.gatewayConnected === false)).toBe(true);
  });
});

describe("an operator ends a session", () => {
  test("with its gateway connected: forgotten at the edge, and the upstream gets the DELETE", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await openSession(tunnel, gateway, "sid-1");
    const ending = admin("DELETE", `/admin/tunnels/${tunnel.name}/sessions/echo/sid-1`);
    const request = await gateway.nextRequest();
    expect(request.open).toMatchObject({ server: "echo", method: "DELETE", path: "" });
    expect(request.open.headers).toEqual(
      expect.arrayContaining([
        ["mcp-session-id", "sid-1"],
        ["mcp-protocol-version", "2025-06-18"],
      ]),
    );
    gateway.respond(request.stream, 200, [], "");
    expect(await (await ending).json()).toEqual({ server: "echo", id: "sid-1", upstream: "deleted", detail: "200" });
    // The agent's next call in that session: unknown, as after a client's own DELETE.
    const next = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, "mcp-session-id": "sid-1", "mcp-protocol-version": "2025-06-18" },
      body: jsonRpc("tools/list"),
    });
    expect(next.status).toBe(404);
    const sessions = await adminJson<Page<SessionRow>>("GET", `/admin/tunnels/${tunnel.name}/sessions`);
    expect(sessions.rows).toEqual([]);
    gateway.close();
  });

  test("an upstream that refuses (405) is reported; the session is forgotten anyway", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await openSession(tunnel, gateway, "sid-2");
    const ending = admin("DELETE", `/admin/tunnels/${tunnel.name}/sessions/echo/sid-2`);
    const request = await gateway.nextRequest();
    gateway.respond(request.stream, 405, [], "");
    expect(await (await ending).json()).toMatchObject({ upstream: "refused", detail: "405" });
    expect((await adminJson<Page<SessionRow>>("GET", `/admin/tunnels/${tunnel.name}/sessions`)).rows).toEqual([]);
    gateway.close();
  });

  test("with its gateway gone: only forgotten, and it says so; an unknown session is 404", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await openSession(tunnel, gateway, "sid-3");
    gateway.close();
    await gateway.closed;
    const ended = await adminJson("DELETE", `/admin/tunnels/${tunnel.name}/sessions/echo/sid-3`);
    expect(ended).toEqual({ server: "echo", id: "sid-3", upstream: "not_connected", detail: null });
    const again = await admin("DELETE", `/admin/tunnels/${tunnel.name}/sessions/echo/sid-3`);
    expect(again.status).toBe(404);
    expect(await again.text()).toContain("sid-3");
  });
});

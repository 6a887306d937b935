import { describe, expect, test } from "vitest";
import {
  admin,
  agentFetch,
  type CreatedTunnel,
  createTunnel,
  initializeBody,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  tunnelDetail,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

interface SessionView {
  id: string;
  server: string;
  tokenId: string;
  gatewayId: string;
  clientName: string;
  clientVersion: string;
  protocolVersion: string;
  gatewayConnected: boolean;
}

async function sessions(tunnel: string): Promise<SessionView[]> {
  return (await tunnelDetail<{ sessions: SessionView[] }>(tunnel)).sessions;
}

/** Initializes through `gateway`, which answers with session id `sessionId`. */
async function initialize(tunnel: CreatedTunnel, gateway: SimGateway, sessionId: string, token?: string) {
  const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: initializeBody(), token });
  const { stream } = await gateway.nextRequest();
  gateway.respond(
    stream,
    200,
    [...JSON_HEADERS, ["mcp-session-id", sessionId]],
    '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}',
  );
  const res = await call;
  expect(res.headers.get("mcp-session-id")).toBe(sessionId);
  await res.arrayBuffer();
}

function inSession(
  tunnel: CreatedTunnel,
  sessionId: string,
  init: { method?: string; token?: string; id?: number } = {},
) {
  const method = init.method ?? "POST";
  return agentFetch(tunnel, "echo", {
    method,
    token: init.token,
    headers: { ...POST_JSON, "mcp-session-id": sessionId },
    body: method === "POST" ? jsonRpc("tools/list", {}, init.id ?? 2) : undefined,
  });
}

describe("MCP sessions through the tunnel", () => {
  test("initialize records the session: client, protocol version, token and gateway", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, { gatewayId: "gw-one" });
    await initialize(tunnel, gateway, "sess-1");
    expect(await sessions(tunnel.name)).toEqual([
      expect.objectContaining({
        id: "sess-1",
        server: "echo",
        tokenId: tunnel.tokens[1]?.id,
        gatewayId: "gw-one",
        clientName: "test-client",
        clientVersion: "1.2.3",
        protocolVersion: "2025-06-18",
        gatewayConnected: true,
      }),
    ]);
    gateway.close();
  });

  test("a stateless server (no session id) leaves no session behind", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: initializeBody() });
    const { stream } = await gateway.nextRequest();
    gateway.respond(stream, 200, JSON_HEADERS, '{"jsonrpc":"2.0","id":1,"result":{}}');
    await (await call).arrayBuffer();
    expect(await sessions(tunnel.name)).toEqual([]);
    gateway.close();
  });

  test("requests in a session stick to the session's gateway, even when another is less busy", async () => {
    const tunnel = await createTunnel();
    const owner = await SimGateway.connect(tunnel, { gatewayId: "owner" });
    await initialize(tunnel, owner, "sticky");
    // Keep the owner busy so that, without the session, the other gateway would be chosen.
    const busy = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 99) });
    const pending = await owner.nextRequest();
    const other = await SimGateway.connect(tunnel, { gatewayId: "other" });
    for (let i = 0; i < 3; i++) {
      const call = inSession(tunnel, "sticky", { id: 10 + i });
      const { stream, open } = await owner.nextRequest();
      expect(new Map(open.headers).get("mcp-session-id")).toBe("sticky");
      owner.respond(stream, 200, JSON_HEADERS, "{}");
      expect((await call).status).toBe(200);
      await (await call).arrayBuffer();
    }
    // A request outside the session now goes to the idle gateway.
    const free = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const freeRequest = await other.nextRequest();
    other.respond(freeRequest.stream, 200, JSON_HEADERS, "{}");
    await (await free).arrayBuffer();
    owner.respond(pending.stream, 200, JSON_HEADERS, "{}");
    await (await busy).arrayBuffer();
    owner.close();
    other.close();
  });

  test("a session id is only accepted with the agent token that created it", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await initialize(tunnel, gateway, "mine");
    const second = (await (await admin("POST", `/admin/tunnels/${tunnel.name}/tokens`, { role: "agent" })).json()) as {
      token: string;
    };
    const stolen = await inSession(tunnel, "mine", { token: second.token, id: 4 });
    const unknown = await inSession(tunnel, "never-issued", { id: 4 });
    expect(stolen.status).toBe(404);
    expect(unknown.status).toBe(404);
    // Indistinguishable from an unknown session.
    expect(await stolen.text()).toBe(await unknown.text());
    // The owner still uses it.
    const call = inSession(tunnel, "mine");
    const { stream } = await gateway.nextRequest();
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    expect((await call).status).toBe(200);
    await (await call).arrayBuffer();
    gateway.close();
  });

  test("DELETE is relayed, then the session is gone (404)", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await initialize(tunnel, gateway, "to-delete");
    const del = inSession(tunnel, "to-delete", { method: "DELETE" });
    const { stream, open } = await gateway.nextRequest();
    expect(open.method).toBe("DELETE");
    gateway.respond(stream, 200, [], "");
    expect((await del).status).toBe(200);
    await (await del).arrayBuffer();
    expect(await sessions(tunnel.name)).toEqual([]);
    const after = await inSession(tunnel, "to-delete", { id: 6 });
    expect(after.status).toBe(404);
    expect(await after.json()).toMatchObject({ id: 6, error: { data: { code: "not_found" } } });
    gateway.close();
  });

  test("a session whose gateway is gone answers 404 so the client re-initializes elsewhere", async () => {
    const tunnel = await createTunnel();
    const owner = await SimGateway.connect(tunnel, { gatewayId: "first" });
    await initialize(tunnel, owner, "orphan");
    const survivor = await SimGateway.connect(tunnel, { gatewayId: "second" });
    owner.close();
    await within(owner.closed, "owner close");
    const res = await within(
      (async () => {
        // The close reaches the relay as its own event; until it has, calls fail with 502.
        for (;;) {
          const attempt = await inSession(tunnel, "orphan", { id: 8 });
          if (attempt.status === 404) return attempt;
          await attempt.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
      "404 for the orphaned session",
    );
    expect(await res.json()).toMatchObject({ id: 8, error: { message: expect.stringMatching(/gateway is gone/) } });
    expect((await sessions(tunnel.name))[0]?.gatewayConnected).toBe(false);
    // Re-initializing works through the surviving gateway.
    await initialize(tunnel, survivor, "fresh");
    survivor.close();
  });

  test("an upstream 404 for a session makes the edge forget the session too", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await initialize(tunnel, gateway, "expired-upstream");
    const call = inSession(tunnel, "expired-upstream");
    const { stream } = await gateway.nextRequest();
    gateway.respond(
      stream,
      404,
      JSON_HEADERS,
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}',
    );
    expect((await call).status).toBe(404);
    await (await call).arrayBuffer();
    expect(await sessions(tunnel.name)).toEqual([]);
    gateway.close();
  });
});

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import {
  admin,
  agentFetch,
  createTunnel,
  eventually,
  initializeBody,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  SSE_GET,
  SSE_HEADERS,
  tunnelDetail,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

interface Detail {
  tokens: Array<{ id: string; role: string; revokedAt: number | null }>;
  sessions: Array<{ id: string; clientName: string; gatewayId: string }>;
  traces: Array<{ rpcMethod: string; status: number }>;
  gateways: Array<{ id: string }>;
}

async function detail(tunnel: string): Promise<Detail> {
  return tunnelDetail<Detail>(tunnel);
}

describe("eviction", () => {
  test("tokens, sessions and written traces survive an eviction; the hibernated gateway keeps serving", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, { gatewayId: "steady" });
    const init = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: initializeBody() });
    const first = await gateway.nextRequest();
    gateway.respond(
      first.stream,
      200,
      [...JSON_HEADERS, ["mcp-session-id", "kept"]],
      '{"jsonrpc":"2.0","id":1,"result":{}}',
    );
    await (await init).arrayBuffer();
    const revoked = (await (await admin("POST", `/admin/tunnels/${tunnel.name}/tokens`, { role: "agent" })).json()) as {
      id: string;
      token: string;
    };
    await admin("DELETE", `/admin/tunnels/${tunnel.name}/tokens/${revoked.id}`);
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    // Written behind, within about a second: the trace, and the socket's attachment saying its
    // streams are done. An object evicted after idling has written both.
    await eventually(
      () =>
        runInDurableObject(stub, (_instance, state) => {
          const traces = state.storage.sql.exec("SELECT count(*) AS n FROM traces").one().n;
          const idle = state
            .getWebSockets("gateway")
            .every((ws) => !(ws.deserializeAttachment() as { busy: boolean }).busy);
          return traces === 1 && idle;
        }),
      "the trace and the idle mark to be written",
    );
    const before = await detail(tunnel.name);

    await evictDurableObject(stub);

    const after = await detail(tunnel.name);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.tokens.find((t) => t.id === revoked.id)?.revokedAt).not.toBeNull();
    expect(after.sessions).toEqual(before.sessions);
    expect(after.sessions[0]).toMatchObject({ id: "kept", clientName: "test-client", gatewayId: "steady" });
    expect(after.traces).toEqual(before.traces);
    expect(after.traces[0]).toMatchObject({ rpcMethod: "initialize", status: 200 });
    expect(after.gateways.map((g) => g.id)).toEqual(["steady"]);

    // The session still routes to its gateway over the socket that hibernated through the eviction.
    const call = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, "mcp-session-id": "kept" },
      body: jsonRpc("tools/list", {}, 2),
    });
    const second = await gateway.nextRequest();
    expect(second.stream).toBeGreaterThan(first.stream);
    gateway.respond(second.stream, 200, JSON_HEADERS, '{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}');
    expect(await (await call).json()).toMatchObject({ id: 2, result: { tools: [] } });
    // The revoked token stays revoked.
    const refused = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("ping"),
      token: revoked.token,
    });
    expect(refused.status).toBe(401);
    gateway.close();
  });

  test("a stream in flight at an eviction fails (no hang); its gateway socket is closed on the next wake", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const call = agentFetch(tunnel, "echo", SSE_GET);
    const { stream, reader } = await gateway.streaming(call, SSE_HEADERS, "data: before\n\n");

    // evictDurableObject waits for in-flight requests to finish; an object torn down under load is a reset.
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    await expect(runInDurableObject(stub, (_instance, state) => state.abort("simulated eviction"))).rejects.toThrow(
      "simulated eviction",
    );

    await expect(reader.rest()).rejects.toThrow();
    // The gateway's socket does not outlive the streams it carried: the runtime drops it (1006), or a
    // relay that wakes under it with streams it never knew closes it (1012). Either way it reconnects.
    gateway.data(stream, "data: after\n\n");
    const closed = await within(gateway.closed, "close of the orphaned socket");
    expect([1006, 1012]).toContain(closed.code);
    // A reconnecting gateway serves again.
    const fresh = await SimGateway.connect(tunnel);
    const next = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const request = await fresh.nextRequest();
    fresh.respond(request.stream, 200, JSON_HEADERS, "{}");
    expect(await (await next).text()).toBe("{}");
    fresh.close();
  });

  test("a relay that wakes under a socket that had streams open closes it with 1012", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    // The state an instance leaves behind when it dies with streams open on a hibernatable socket.
    await runInDurableObject(stub, (_instance, state) => {
      for (const ws of state.getWebSockets("gateway")) {
        ws.serializeAttachment({ ...(ws.deserializeAttachment() as object), busy: true });
      }
    });
    await evictDurableObject(stub);
    gateway.data(1, "data: for a stream the new instance never saw\n\n");
    expect(await within(gateway.closed, "close")).toEqual({
      code: 1012,
      reason: "relay restarted; streams in flight were lost",
    });
  });
});

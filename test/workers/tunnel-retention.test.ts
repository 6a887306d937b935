import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import type { GatewayAttachment } from "../../durable-objects/tunnel-relay/gateway-connection.ts";
import { SESSION_IDLE_MS } from "../../durable-objects/tunnel-relay/storage.ts";
import {
  agentFetch,
  createTunnel,
  initializeBody,
  POST_JSON,
  tunnelDetail,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

// The audit trail's retention (by age and rows) is tested in ./audit-tunnel.test.ts.
describe("bounded retention", () => {
  test("the alarm prunes sessions idle for a day and keeps the others", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    for (const id of ["old", "recent"]) {
      const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: initializeBody() });
      const { stream } = await gateway.nextRequest();
      gateway.respond(
        stream,
        200,
        [
          ["content-type", "application/json"],
          ["mcp-session-id", id],
        ],
        "{}",
      );
      await (await call).arrayBuffer();
    }
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE sessions SET last_used_at = ? WHERE id = 'old'", Date.now() - SESSION_IDLE_MS - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const detail = await tunnelDetail<{
      sessions: Array<{ id: string }>;
    }>(tunnel.name);
    expect(detail.sessions.map((s) => s.id)).toEqual(["recent"]);
    gateway.close();
  });

  test("the alarm closes a socket that never said Hello", async () => {
    const tunnel = await createTunnel();
    const silent = await SimGateway.dial(tunnel.name, tunnel.gatewayToken);
    if (silent instanceof Response) throw new Error(`refused: ${silent.status}`);
    const speaking = await SimGateway.connect(tunnel);
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    // Age the silent socket past the Hello deadline; a fresh instance reads the aged attachment.
    await runInDurableObject(stub, (_instance, state) => {
      for (const ws of state.getWebSockets("gateway")) {
        const attachment = ws.deserializeAttachment() as GatewayAttachment;
        if (!attachment.hello) ws.serializeAttachment({ ...attachment, connectedAt: Date.now() - 60_000 });
      }
    });
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await within(silent.closed, "close of the silent socket")).toEqual({
      code: 4400,
      reason: "no Hello in time",
    });
    expect(speaking.isClosed).toBe(false);
    speaking.close();
  });
});

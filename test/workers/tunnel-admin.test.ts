import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { hashToken, parseToken } from "../../src/auth/tokens.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import {
  ADMIN_TOKEN,
  admin,
  agentFetch,
  createTunnel,
  edgeFetch,
  jsonRpc,
  POST_JSON,
  tunnelDetail,
  uniqueName,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

/** The audit trail's defaults (src/audit/retention.ts). */
const DEFAULT_AUDIT = { retentionDays: 30, maxRows: 100_000, payloads: false };

warmUpEdge();

describe("admin API for tunnels", () => {
  test("creating a tunnel returns a gateway and an agent token once, scoped to the tunnel", async () => {
    const name = uniqueName();
    const res = await admin("POST", "/admin/tunnels", { name });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.name).toBe(name);
    expect(parseToken(body.gatewayToken as string)).toMatchObject({ kind: "gw", scope: name });
    expect(parseToken(body.agentToken as string)).toMatchObject({ kind: "ag", scope: name });
    expect(body.connectUrl).toBe(`ws://edge.test/t/${name}/connect`);
    expect(body.mcpUrl).toBe(`http://edge.test/t/${name}/{server}/mcp`);
    expect(body.tokens).toEqual([
      expect.objectContaining({ role: "gateway", revokedAt: null }),
      expect.objectContaining({ role: "agent", revokedAt: null }),
    ]);
  });

  test("a name that exists answers 409 and keeps the original tokens working", async () => {
    const tunnel = await createTunnel();
    const again = await admin("POST", "/admin/tunnels", { name: tunnel.name });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("conflict");
    const gateway = await SimGateway.connect(tunnel);
    gateway.close();
  });

  test.each([
    ["upper case", "Bad"],
    ["leading dash", "-x"],
    ["underscore", "a_b"],
    ["too long", "a".repeat(64)],
    ["empty", ""],
  ])("a bad name (%s) answers 400 and creates nothing", async (_what, name) => {
    const res = await admin("POST", "/admin/tunnels", { name });
    expect(res.status).toBe(400);
    const list = (await (await admin("GET", "/admin/tunnels")).json()) as { tunnels: Array<{ name: string }> };
    expect(list.tunnels.map((t) => t.name)).not.toContain(name);
  });

  test("unknown fields and bad settings answer 400", async () => {
    expect((await admin("POST", "/admin/tunnels", { name: uniqueName(), colour: "red" })).status).toBe(400);
    expect((await admin("POST", "/admin/tunnels", { name: uniqueName(), sseKeepAliveMs: 1 })).status).toBe(400);
    expect((await admin("POST", "/admin/tunnels", { name: uniqueName(), allowedOrigins: ["nope"] })).status).toBe(400);
  });

  test("without or with a wrong admin token: 401 with WWW-Authenticate", async () => {
    const tunnel = await createTunnel();
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${tunnel.agentToken}` },
    ];
    for (const headers of attempts) {
      for (const [method, path] of [
        ["GET", "/admin/tunnels"],
        ["POST", "/admin/tunnels"],
        ["GET", `/admin/tunnels/${tunnel.name}`],
        ["DELETE", `/admin/tunnels/${tunnel.name}`],
        ["POST", `/admin/tunnels/${tunnel.name}/tokens`],
      ] as const) {
        const res = await edgeFetch(path, { method, headers });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      }
    }
    // Nothing was deleted by the refused calls.
    expect((await admin("GET", `/admin/tunnels/${tunnel.name}`)).status).toBe(200);
  });

  test("list shows each tunnel with its gateways and sessions", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, { servers: [{ name: "files", kind: "stdio", allowPaths: [] }] });
    const list = (await (await admin("GET", "/admin/tunnels")).json()) as { tunnels: Array<Record<string, unknown>> };
    expect(list.tunnels.find((t) => t.name === tunnel.name)).toMatchObject({
      name: tunnel.name,
      gateways: 1,
      servers: ["files"],
      inFlight: 0,
      sessions: 0,
    });
    gateway.close();
  });

  test("detail shows gateways, tokens, sessions and traces, and never a token or its hash", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, {
      gatewayId: "gw-detail",
      version: "9.9.9",
      servers: [{ name: "echo", kind: "http", allowPaths: ["/.well-known/oauth-protected-resource"] }],
    });
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("tools/list") });
    const { stream } = await gateway.nextRequest();
    gateway.respond(stream, 200, [["content-type", "application/json"]], '{"jsonrpc":"2.0","id":1,"result":{}}');
    expect(await (await call).json()).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    const extra = await (await admin("POST", `/admin/tunnels/${tunnel.name}/tokens`, { role: "agent" })).json();

    const res = await admin("GET", `/admin/tunnels/${tunnel.name}`);
    expect(res.status).toBe(200);
    const raw = await res.text();
    for (const token of [tunnel.gatewayToken, tunnel.agentToken, (extra as { token: string }).token]) {
      expect(raw).not.toContain(token);
      expect(raw).not.toContain(await hashToken(token));
      expect(raw).not.toContain(token.split(".")[3]);
    }
    const detail = JSON.parse(raw);
    expect(detail.gateways).toEqual([
      expect.objectContaining({
        id: "gw-detail",
        version: "9.9.9",
        inFlight: 0,
        draining: null,
        tokenId: tunnel.tokens[0]?.id,
        servers: [{ name: "echo", kind: "http", allowPaths: ["/.well-known/oauth-protected-resource"] }],
      }),
    ]);
    expect(detail.gateways[0].connectedAt).toBeGreaterThan(0);
    expect(detail.tokens.map((t: { role: string }) => t.role)).toEqual(["gateway", "agent", "agent"]);
    expect(Object.keys(detail.tokens[0]).sort()).toEqual(["createdAt", "id", "lastUsedAt", "revokedAt", "role"]);
    expect(detail.tokens[0].lastUsedAt).toBeGreaterThan(0); // the gateway's token, used to connect
    expect(detail.tokens[2].lastUsedAt).toBeNull(); // issued above and never presented
    expect(detail.traces[0]).toMatchObject({
      server: "echo",
      httpMethod: "POST",
      rpcMethod: "tools/list",
      status: 200,
    });
    expect(detail.settings).toEqual({ allowedOrigins: [], sseKeepAliveMs: 15000, audit: DEFAULT_AUDIT });
    gateway.close();
  });

  test("unknown tunnels answer 404 for every operation and leave nothing behind", async () => {
    const name = uniqueName("ghost");
    for (const [method, path, body] of [
      ["GET", `/admin/tunnels/${name}`],
      ["PATCH", `/admin/tunnels/${name}`, { sseKeepAliveMs: 1000 }],
      ["DELETE", `/admin/tunnels/${name}`],
      ["POST", `/admin/tunnels/${name}/tokens`, { role: "agent" }],
      ["DELETE", `/admin/tunnels/${name}/tokens/ag_123`],
      ["GET", "/admin/tunnels/NOT-VALID"],
    ] as const) {
      const res = await admin(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // The probes created no tunnel.
    expect((await admin("POST", "/admin/tunnels", { name })).status).toBe(201);
  });

  test("the relay's refusals cross RPC as values and unwrap to the same TetherError", async () => {
    const relay = env.TUNNEL_RELAY.getByName(uniqueName("ghost"));
    const refused = await relay.revokeToken("ag_123");
    expect(refused).toEqual({ ok: false, error: { code: "not_found", message: "no such tunnel", headers: {} } });
    const rebuilt = (() => {
      try {
        return unwrap(refused);
      } catch (error) {
        return error;
      }
    })();
    expect(rebuilt).toBeInstanceOf(TetherError);
    expect(rebuilt).toMatchObject({ code: "not_found", status: 404, jsonRpcCode: -32002, message: "no such tunnel" });
    const tunnel = await createTunnel();
    const issued = unwrap(await env.TUNNEL_RELAY.getByName(tunnel.name).issueToken("agent"));
    expect(issued).toMatchObject({ role: "agent", revokedAt: null, token: expect.stringMatching(/^tth\.ag\./) });
  });

  test("settings can be changed", async () => {
    const tunnel = await createTunnel();
    const res = await admin("PATCH", `/admin/tunnels/${tunnel.name}`, {
      allowedOrigins: ["https://app.example:8443/x"],
    });
    expect(await res.json()).toEqual({
      settings: { allowedOrigins: ["https://app.example:8443"], sseKeepAliveMs: 15000, audit: DEFAULT_AUDIT },
    });
    expect((await admin("PATCH", `/admin/tunnels/${tunnel.name}`, { sseKeepAliveMs: 999_999 })).status).toBe(400);
  });

  test("deleting a tunnel closes its gateways, wipes its state and frees the name", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const res = await admin("DELETE", `/admin/tunnels/${tunnel.name}`);
    expect(await res.json()).toEqual({ name: tunnel.name, deleted: true });
    expect(await within(gateway.closed, "gateway close")).toEqual({ code: 4401, reason: "tunnel deleted" });
    expect((await admin("GET", `/admin/tunnels/${tunnel.name}`)).status).toBe(404);
    const list = (await (await admin("GET", "/admin/tunnels")).json()) as { tunnels: Array<{ name: string }> };
    expect(list.tunnels.map((t) => t.name)).not.toContain(tunnel.name);
    // Old tokens are dead; the agent gets 401 as for any invalid token.
    const agent = await agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    expect(agent.status).toBe(401);
    const redial = await SimGateway.dial(tunnel.name, tunnel.gatewayToken);
    expect(redial).toBeInstanceOf(Response);
    expect((redial as Response).status).toBe(401);
    // The name can be used again, with new tokens.
    const again = (await (await admin("POST", "/admin/tunnels", { name: tunnel.name })).json()) as {
      agentToken: string;
    };
    expect(again.agentToken).not.toBe(tunnel.agentToken);
    const detail = await tunnelDetail<{ traces: unknown[] }>(tunnel.name);
    expect(detail.traces).toEqual([]);
  });

  test("tokens can be issued and revoked; a revoked agent token fails on its next use", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const issued = (await (await admin("POST", `/admin/tunnels/${tunnel.name}/tokens`, { role: "agent" })).json()) as {
      id: string;
      token: string;
      role: string;
    };
    expect(issued.role).toBe("agent");
    expect(parseToken(issued.token)).toMatchObject({ kind: "ag", scope: tunnel.name });

    const ok = agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("ping"),
      token: issued.token,
    });
    const { stream } = await gateway.nextRequest();
    gateway.respond(stream, 200, [["content-type", "application/json"]], "{}");
    expect(await (await ok).text()).toBe("{}");

    const revoked = await admin("DELETE", `/admin/tunnels/${tunnel.name}/tokens/${issued.id}`);
    expect(await revoked.json()).toMatchObject({ id: issued.id, role: "agent", closedGateways: 0 });
    const refused = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: POST_JSON,
      body: jsonRpc("ping", {}, 7),
      token: issued.token,
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(await refused.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32001 } });
    // The other agent token still works.
    const still = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const second = await gateway.nextRequest();
    gateway.respond(second.stream, 200, [["content-type", "application/json"]], "{}");
    expect(await (await still).text()).toBe("{}");

    expect((await admin("POST", `/admin/tunnels/${tunnel.name}/tokens`, { role: "root" })).status).toBe(400);
    expect((await admin("DELETE", `/admin/tunnels/${tunnel.name}/tokens/ag_nope`)).status).toBe(404);
    gateway.close();
  });

  test("revoking a gateway token closes that gateway's sockets with 4401 and refuses it afterwards", async () => {
    const tunnel = await createTunnel();
    const spare = (await (await admin("POST", `/admin/tunnels/${tunnel.name}/tokens`, { role: "gateway" })).json()) as {
      token: string;
    };
    const doomed = await SimGateway.connect(tunnel);
    const survivor = await SimGateway.connect(tunnel, { gatewayId: "survivor" }, spare.token);
    const gatewayTokenId = tunnel.tokens[0]?.id;
    const res = await admin("DELETE", `/admin/tunnels/${tunnel.name}/tokens/${gatewayTokenId}`);
    expect(await res.json()).toMatchObject({ id: gatewayTokenId, closedGateways: 1 });
    expect(await within(doomed.closed, "revoked gateway close")).toEqual({ code: 4401, reason: "token revoked" });
    const redial = (await SimGateway.dial(tunnel.name, tunnel.gatewayToken)) as Response;
    expect(redial.status).toBe(401);
    expect(redial.headers.get("www-authenticate")).toMatch(/^Bearer /);

    // The gateway on the other token keeps serving.
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
    const { stream } = await survivor.nextRequest();
    survivor.respond(stream, 200, [["content-type", "application/json"]], "{}");
    expect(await (await call).text()).toBe("{}");
    expect(survivor.isClosed).toBe(false);
    survivor.close();
  });

  test("the admin token is compared in full", async () => {
    const res = await edgeFetch("/admin/tunnels", { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } });
    expect(res.status).toBe(401);
  });
});

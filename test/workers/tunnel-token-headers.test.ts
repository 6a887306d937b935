/**
 * Where an agent's Tether token may come from (X-Tether-Token, else Authorization) and what the
 * gateway is handed for the upstream: every combination of the two headers, absent, empty, valid
 * or not (test/helpers/token-header-cases.ts). The edge never forwards a Tether token;
 * Authorization reaches the upstream only when the token came in X-Tether-Token and Authorization
 * is the upstream's own credential. test/e2e/tunnel-edges.test.ts checks the same with a real
 * gateway and upstream.
 */
import { expect, test } from "vitest";
import { tokenHeaderCases } from "../helpers/token-header-cases.ts";
import { createTunnel, edgeFetch, JSON_HEADERS, jsonRpc, POST_JSON, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

test("every combination of X-Tether-Token and Authorization: status and what the gateway is handed", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel);
  const cases = tokenHeaderCases(tunnel.name, tunnel.agentToken);
  expect(cases.filter((c) => c.accepted).length).toBe(7);
  for (const { name, headers, accepted, upstreamAuthorization } of cases) {
    const call = edgeFetch(`/t/${tunnel.name}/echo/mcp`, {
      method: "POST",
      headers: { ...POST_JSON, ...headers, "x-case": name },
      body: jsonRpc("ping"),
    });
    if (!accepted) {
      const res = await call;
      expect(res.status, name).toBe(401);
      expect(res.headers.get("www-authenticate"), name).toMatch(/^Bearer /);
      await res.arrayBuffer();
      continue;
    }
    const { open, stream } = await gateway.nextRequest();
    const received = new Map(open.headers);
    // No request that was refused reached the gateway in between.
    expect(received.get("x-case")).toBe(name);
    expect(received.has("x-tether-token"), name).toBe(false);
    for (const [header, value] of open.headers) expect(value, `${name}: ${header}`).not.toMatch(/tth\./);
    expect(received.get("authorization"), name).toBe(upstreamAuthorization);
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    const res = await call;
    expect(res.status, name).toBe(200);
    await res.arrayBuffer();
  }
  gateway.close();
});

test("a blank X-Tether-Token counts as absent, with or without another header's token", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel);
  const call = edgeFetch(`/t/${tunnel.name}/echo/mcp`, {
    method: "POST",
    headers: { ...POST_JSON, "x-tether-token": "   ", authorization: `bearer   ${tunnel.agentToken}  ` },
    body: jsonRpc("ping"),
  });
  const { open, stream } = await gateway.nextRequest();
  expect(open.headers.map(([name]) => name)).not.toContain("authorization");
  gateway.respond(stream, 200, JSON_HEADERS, "{}");
  expect((await call).status).toBe(200);
  const missing = await edgeFetch(`/t/${tunnel.name}/echo/mcp`, {
    method: "POST",
    headers: { ...POST_JSON, "x-tether-token": "", authorization: "Bearer " },
    body: jsonRpc("ping"),
  });
  expect(missing.status).toBe(401);
  expect(await missing.json()).toMatchObject({ error: { message: "missing agent token" } });
  gateway.close();
});

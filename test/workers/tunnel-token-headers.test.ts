/**
 * Where an agent's Tether token may come from (X-Tether-Token, else Authorization) and what the
 * upstream then receives: every combination of the two headers, absent, empty, valid or not. The
 * edge never forwards a Tether token; Authorization reaches the upstream only when the token came
 * in X-Tether-Token and Authorization is the upstream's own credential.
 */
import { expect, test } from "vitest";
import { createTunnel, edgeFetch, JSON_HEADERS, jsonRpc, POST_JSON, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

type Value = "absent" | "empty" | "valid" | "forged" | "upstream";

test("every combination of X-Tether-Token and Authorization: status and what the upstream receives", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel);
  const forged = `tth.ag.${tunnel.name}.${"F".repeat(32)}`;
  const tokenValue: Record<Value, string | null> = {
    absent: null,
    empty: "",
    valid: tunnel.agentToken,
    forged,
    upstream: "upstream-secret",
  };
  const authValue: Record<Value, string | null> = {
    absent: null,
    empty: "",
    valid: `Bearer ${tunnel.agentToken}`,
    forged: `Bearer ${forged}`,
    upstream: "Bearer upstream-secret",
  };
  const seen: string[] = [];
  for (const x of ["absent", "empty", "valid", "forged"] as const) {
    for (const a of ["absent", "empty", "valid", "forged", "upstream"] as const) {
      const name = `x-tether-token ${x}, authorization ${a}`;
      const headers = new Headers({ ...POST_JSON, "x-case": name });
      if (tokenValue[x] !== null) headers.set("x-tether-token", tokenValue[x]);
      if (authValue[a] !== null) headers.set("authorization", authValue[a]);
      const call = edgeFetch(`/t/${tunnel.name}/echo/mcp`, { method: "POST", headers, body: jsonRpc("ping") });

      // The token is X-Tether-Token's when it has one, else Authorization's.
      const tokenFromX = x === "valid" || x === "forged";
      const accepted = tokenFromX ? x === "valid" : a === "valid";
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
      seen.push(name);
      expect(received.has("x-tether-token"), name).toBe(false);
      for (const [header, value] of open.headers) expect(value, `${name}: ${header}`).not.toMatch(/tth\./);
      // An empty Authorization does not survive the hop either way; only the upstream's own credential passes.
      const upstreamAuth = tokenFromX && a === "upstream" ? authValue[a] : undefined;
      expect(received.get("authorization"), name).toBe(upstreamAuth);
      gateway.respond(stream, 200, JSON_HEADERS, "{}");
      const res = await call;
      expect(res.status, name).toBe(200);
      await res.arrayBuffer();
    }
  }
  expect(seen).toEqual([
    "x-tether-token absent, authorization valid",
    "x-tether-token empty, authorization valid",
    "x-tether-token valid, authorization absent",
    "x-tether-token valid, authorization empty",
    "x-tether-token valid, authorization valid",
    "x-tether-token valid, authorization forged",
    "x-tether-token valid, authorization upstream",
  ]);
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

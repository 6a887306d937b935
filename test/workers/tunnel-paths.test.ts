/**
 * The agent endpoint's path as the edge reads it: names may be percent-encoded without moving
 * where the extra upstream path starts, and an extra path is judged decoded, as the upstream will
 * route it, so encoded separators and dot segments cannot slip past the gateway's allow list.
 */
import { expect, test } from "vitest";
import {
  agentFetch,
  createTunnel,
  edgeFetch,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  warmUpEdge,
  within,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const ALLOW = ["/.well-known/oauth-protected-resource", "/files/*"];

/** Every character of a name percent-encoded. */
const encodeAll = (name: string) =>
  [...name].map((char) => `%${char.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");

test("percent-encoded tunnel and server names: the upstream path is cut where the raw path says", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel, { servers: [{ name: "echo", kind: "http", allowPaths: ALLOW }] });
  const authorization = `Bearer ${tunnel.agentToken}`;
  const cases: Array<[string, string]> = [
    [`/t/${encodeAll(tunnel.name)}/echo/mcp`, ""],
    [`/t/${tunnel.name}/%65cho/mcp`, ""],
    [`/t/${encodeAll(tunnel.name)}/${encodeAll("echo")}/mcp/files/a%20b`, "/files/a%20b"],
    [
      `/t/${tunnel.name}/${encodeAll("echo")}/${encodeAll("mcp")}/.well-known/oauth-protected-resource`,
      "/.well-known/oauth-protected-resource",
    ],
  ];
  for (const [url, path] of cases) {
    const call = edgeFetch(`${url}?q=1`, {
      method: "POST",
      headers: { ...POST_JSON, authorization },
      body: jsonRpc("ping"),
    });
    const { open, stream } = await gateway.nextRequest();
    expect([open.server, open.path, open.query], url).toEqual(["echo", path, "?q=1"]);
    gateway.respond(stream, 200, JSON_HEADERS, "{}");
    expect((await call).status, url).toBe(200);
    await (await call).arrayBuffer();
  }
  gateway.close();
});

test("names that decode to something that cannot be a tunnel or server are 404", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel);
  const authorization = `Bearer ${tunnel.agentToken}`;
  for (const url of [
    `/t/${tunnel.name}%2Fx/echo/mcp`,
    `/t/${tunnel.name}/ec%2Fho/mcp`,
    `/t/${tunnel.name}/%2e%2e/mcp`,
    `/t/${tunnel.name}/echo%ZZ/mcp`,
  ]) {
    const res = await edgeFetch(url, {
      method: "POST",
      headers: { ...POST_JSON, authorization },
      body: jsonRpc("ping"),
    });
    expect(res.status, url).toBe(404);
    await res.arrayBuffer();
  }
  gateway.close();
});

test("smuggled extra paths are refused at the edge and never reach the gateway", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel, { servers: [{ name: "echo", kind: "http", allowPaths: ALLOW }] });
  for (const path of [
    "/files/..%2fadmin",
    "/files/..%2Fadmin",
    "/files/..%5cadmin",
    "/files/..%5Cadmin",
    "/files/%252e%252e%252fadmin",
    "/files/a%252fb",
    "/files//admin",
    "/files/..;x/admin",
    "/files/a%00",
  ]) {
    // Bounded: a path let through would wait on the gateway, which never answers it.
    const res = await within(agentFetch(tunnel, "echo", { method: "GET", path }), `the refusal of ${path}`);
    expect(res.status, path).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message, path).toMatch(/does not expose/);
  }
  // The next request the gateway sees is the allowed one sent after them all.
  const call = agentFetch(tunnel, "echo", { method: "GET", path: "/files/ok" });
  const { open, stream } = await gateway.nextRequest();
  expect(open.path).toBe("/files/ok");
  gateway.respond(stream, 200, JSON_HEADERS, "{}");
  expect((await call).status).toBe(200);
  await (await call).arrayBuffer();
  gateway.close();
});

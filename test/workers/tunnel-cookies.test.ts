/**
 * Every tunnel shares the edge's origin, so cookies stay off the relay: an upstream's Set-Cookie
 * never reaches the agent (it would land on the shared origin, readable by and overwriting other
 * tunnels' browser clients), and a cookie the agent's browser holds for the edge never reaches an
 * upstream.
 */
import { expect, test } from "vitest";
import { agentFetch, createTunnel, JSON_HEADERS, jsonRpc, POST_JSON, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

const COOKIES: Array<[string, string]> = [
  ["set-cookie", "session=upstream; Path=/; HttpOnly"],
  ["Set-Cookie", "other=1; Path=/t/elsewhere"],
  ["x-kept", "yes"],
];

test("Set-Cookie from the upstream is dropped, streamed or inline; other headers pass", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel);
  // Streamed: Head, DATA, END.
  const streamed = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping") });
  const first = await gateway.nextRequest();
  gateway.respond(first.stream, 200, [...JSON_HEADERS, ...COOKIES], "{}");
  // Inline: one HeadBody frame.
  const inline = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: jsonRpc("ping", {}, 2) });
  const second = await gateway.nextRequest();
  gateway.headBody(second.stream, 200, [...JSON_HEADERS, ...COOKIES], "{}");
  for (const res of [await streamed, await inline]) {
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get("x-kept")).toBe("yes");
    expect(await res.text()).toBe("{}");
  }
  gateway.close();
});

test("the agent's Cookie header is not forwarded to the upstream", async () => {
  const tunnel = await createTunnel();
  const gateway = await SimGateway.connect(tunnel);
  const call = agentFetch(tunnel, "echo", {
    method: "POST",
    headers: { ...POST_JSON, cookie: "CF_Authorization=edge-login; theme=dark" },
    body: jsonRpc("ping"),
  });
  const { open, stream } = await gateway.nextRequest();
  expect(open.headers.map(([name]) => name)).not.toContain("cookie");
  expect(new Map(open.headers).get("content-type")).toBe("application/json");
  gateway.respond(stream, 200, JSON_HEADERS, "{}");
  expect((await call).status).toBe(200);
  await (await call).arrayBuffer();
  gateway.close();
});

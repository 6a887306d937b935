/**
 * A forged token cannot tell a tunnel that exists from one that does not: the refusal is the same
 * (status, body, every header) for agent and gateway tokens, with or without a browser Origin.
 */
import { expect, test } from "vitest";
import { createTunnel, EDGE, edgeFetch, jsonRpc, POST_JSON, uniqueName, warmUpEdge } from "./tunnel-fixtures.ts";

warmUpEdge();

const APP = "https://app.example";

interface Answer {
  status: number;
  body: string;
  headers: Array<[string, string]>;
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, body: await res.text(), headers: [...res.headers].sort() };
}

const forgedFor = (kind: "ag" | "gw", name: string) => `tth.${kind}.${name}.${"Q".repeat(40)}`;

test("a forged agent token: a missing tunnel answers exactly like a wrong token", async () => {
  const existing = await createTunnel({ allowedOrigins: [APP] });
  const missing = uniqueName();
  for (const origin of [null, EDGE, APP, "https://elsewhere.example"]) {
    const ask = async (name: string) => {
      const headers = new Headers({ ...POST_JSON, authorization: `Bearer ${forgedFor("ag", name)}` });
      if (origin) headers.set("origin", origin);
      return answer(await edgeFetch(`/t/${name}/echo/mcp`, { method: "POST", headers, body: jsonRpc("ping", {}, 7) }));
    };
    const [real, absent] = [await ask(existing.name), await ask(missing)];
    expect(real.status, String(origin)).toBe(401);
    expect(real, String(origin)).toEqual(absent);
    expect(JSON.parse(real.body)).toEqual({
      jsonrpc: "2.0",
      id: 7,
      error: { code: -32001, message: "invalid or revoked agent token", data: { code: "unauthorized" } },
    });
  }
});

test("a forged gateway token: a missing tunnel answers exactly like a wrong token", async () => {
  const existing = await createTunnel();
  const missing = uniqueName();
  const dial = async (name: string) =>
    answer(
      await edgeFetch(`/t/${name}/connect`, {
        headers: { upgrade: "websocket", authorization: `Bearer ${forgedFor("gw", name)}` },
      }),
    );
  const [real, absent] = [await dial(existing.name), await dial(missing)];
  expect(real.status).toBe(401);
  expect(real).toEqual(absent);
  expect(JSON.parse(real.body)).toEqual({
    error: { code: "unauthorized", message: "invalid or revoked gateway token" },
  });
});

test("a revoked token gets that same answer", async () => {
  const tunnel = await createTunnel();
  const issued = (await (
    await edgeFetch(`/admin/tunnels/${tunnel.name}/tokens`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ role: "agent" }),
    })
  ).json()) as { id: string; token: string };
  const revoke = await edgeFetch(`/admin/tunnels/${tunnel.name}/tokens/${issued.id}`, {
    method: "DELETE",
    headers: { authorization: "Bearer test-admin-token" },
  });
  expect(revoke.status).toBe(200);
  const res = await edgeFetch(`/t/${tunnel.name}/echo/mcp`, {
    method: "POST",
    headers: { ...POST_JSON, authorization: `Bearer ${issued.token}` },
    body: jsonRpc("ping", {}, 7),
  });
  const missing = uniqueName();
  const forged = await edgeFetch(`/t/${missing}/echo/mcp`, {
    method: "POST",
    headers: { ...POST_JSON, authorization: `Bearer ${forgedFor("ag", missing)}` },
    body: jsonRpc("ping", {}, 7),
  });
  expect(res.status).toBe(401);
  expect(await res.text()).toBe(await forged.text());
});

import { env } from "cloudflare:workers";
import { expect, test } from "vitest";

test("probe", async () => {
  const stub = env.SANDBOX.get(env.SANDBOX.idFromName("x"));
  try { await stub.boom(); } catch (e) { const err = e as Record<string, unknown>; console.log("ERR", (e as Error).name, (e as Error).message, JSON.stringify(Object.entries(err)), (e as Error).constructor.name); }
  const r = await stub.resp();
  console.log("RESP", r.status, r.headers.get("x-a"), await r.text());
  const o = await stub.obj();
  console.log("OBJ", o.n, await new Response(o.body).text());
  expect(1).toBe(1);
});

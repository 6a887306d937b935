import { Hono } from "hono";
import type { Env } from "../env.ts";

export const tunnelsRoutes = new Hono<{ Bindings: Env }>();
tunnelsRoutes.get("/_probe/rpc", async (c) => {
  const ts = new TransformStream();
  const stub = c.env.TUNNEL_RELAY.getByName("live");
  return c.text(await stub.waitWithLiveness(ts.readable));
});
tunnelsRoutes.get("/_probe/rpc0", async (c) => {
  const stub = c.env.TUNNEL_RELAY.getByName("live0");
  return c.text(await stub.waitWithLiveness(null));
});
tunnelsRoutes.get("/_probe/fetch", async (c) => {
  const stub = c.env.TUNNEL_RELAY.getByName("live2");
  return stub.fetch(c.req.raw);
});

import { env, exports } from "cloudflare:workers";
import { test } from "vitest";

test(`rpc stream no abort`, async () => {
  const r = await exports.default.fetch(`http://edge/t/_probe/rpc`);
  console.log(r.status, await r.text());
  console.log(await env.TUNNEL_RELAY.getByName("live").log());
});

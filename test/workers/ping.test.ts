import { exports } from "cloudflare:workers";
import { expect, test } from "vitest";

test("trivial route answers inside workerd", async () => {
  const res = await exports.default.fetch("http://edge/ping");
  expect(await res.text()).toBe("pong");
});

/**
 * Anthropic's side of a Managed Agents environment:
 *
 *   POST /managed-agents/:name/webhook   a Standard Webhooks delivery (raw body ≤ 64 KiB, else 413)
 *
 * 200 once verified (the same answer again for a replayed `webhook-id`); the drain it may ask for
 * runs afterwards in the environment's Durable Object, so the answer comes fast. Every delivery
 * that does not verify is 401, whether or not the environment exists (see webhook-intake.ts).
 */
import { Hono } from "hono";
import { deliveryHeaders, verifyDelivery } from "../../durable-objects/managed-environment/webhook-intake.ts";
import { registry } from "../../durable-objects/registry.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { readBoundedBody } from "../../src/http/read-bounded-body.ts";
import { ENVIRONMENT_NAME_PATTERN } from "../../src/managed-agents/environment-config.ts";
import type { EdgeEnv } from "../env.ts";
import { environmentStub } from "./admin-environments.ts";

export const managedAgentsRoutes = new Hono<EdgeEnv>();

/** Webhook events are small JSON objects; anything bigger is not one. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

managedAgentsRoutes.post("/:name/webhook", async (c) => {
  const name = c.req.param("name");
  const body = (await readBoundedBody(c.req.raw, MAX_WEBHOOK_BODY_BYTES, "webhook body")) ?? new Uint8Array();
  const headers = deliveryHeaders(c.req.raw.headers);
  // Unknown names never reach (or create) a Durable Object: they fail exactly as a forged delivery
  // to a known environment does (see webhook-intake.ts).
  if (!ENVIRONMENT_NAME_PATTERN.test(name) || !(await registry(c.env).has("environment", name))) {
    await verifyDelivery(null, headers, body);
  }
  return c.json(unwrap(await environmentStub(c.env, name).webhook(headers, body)));
});

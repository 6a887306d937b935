/**
 * Operators' Managed Agents environments API (admin token only):
 *
 *   POST   /admin/environments                   CreateEnvironmentSchema → 201 view (+ webhook_url)
 *   GET    /admin/environments                   → {environments: view[]}
 *   GET    /admin/environments/:name             → view + health + sessions (runners' summaries)
 *   GET    /admin/environments/:name/sessions/:workId → the runner's details
 *   PATCH  /admin/environments/:name             UpdateEnvironmentSchema → view
 *   DELETE /admin/environments/:name             → {name, deleted: true, stopped_sessions}
 *
 * The environment key and webhook secret go in and never come out: no answer has a field for them.
 */
import { Hono } from "hono";
import { gatewayBackendRefused } from "../../durable-objects/managed-environment/config-change.ts";
import type { EnvironmentView } from "../../durable-objects/managed-environment/view.ts";
import { environmentNotFound } from "../../durable-objects/managed-environment.ts";
import { registry } from "../../durable-objects/registry.ts";
import { recordOperatorAction } from "../../src/audit/operator-action.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { readJsonBody } from "../../src/http/read-bounded-body.ts";
import {
  CreateEnvironmentSchema,
  ENVIRONMENT_NAME_PATTERN,
  UpdateEnvironmentSchema,
} from "../../src/managed-agents/environment-config.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv, Env } from "../env.ts";
import { adminOnly } from "./admin-only.ts";

export const adminEnvironmentsRoutes = new Hono<EdgeEnv>();

const ADMIN_BODY_LIMIT = 64 * 1024;

adminOnly(adminEnvironmentsRoutes, "/environments");

adminEnvironmentsRoutes.post("/environments", async (c) => {
  const body = await readJsonBody(c.req.raw, ADMIN_BODY_LIMIT, "environment");
  const request = parseInput(CreateEnvironmentSchema, body, "environment");
  if (request.backend?.type === "gateway") throw gatewayBackendRefused();
  const result = await environmentStub(c.env, request.name).configure(request);
  // Listed once it exists; also on a 409, which heals a create cut off between the two steps.
  if (result.ok || result.error.code === "conflict") await registry(c.env).add("environment", request.name);
  const view = unwrap(result);
  // Names of the fields given, never their values (the environment key and webhook secret are among them).
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "environment.created",
    target: request.name,
    detail: { fields: Object.keys(request).sort() },
  });
  return c.json(withWebhookUrl(view, c.req.url), 201);
});

adminEnvironmentsRoutes.get("/environments", async (c) => {
  const entries = await registry(c.env).list("environment");
  const views = await Promise.all(
    entries.map((entry) =>
      environmentStub(c.env, entry.name)
        .summary()
        // A name the registry still lists but whose object holds nothing is skipped.
        .then((result) => (result.ok ? withWebhookUrl(result.value, c.req.url) : null))
        .catch(() => null),
    ),
  );
  return c.json({ environments: views.filter((view) => view !== null) });
});

adminEnvironmentsRoutes.get("/environments/:name", async (c) => {
  const view = unwrap(await named(c.env, c.req.param("name")).view());
  return c.json(withWebhookUrl(view, c.req.url));
});

adminEnvironmentsRoutes.get("/environments/:name/sessions/:workId", async (c) => {
  return c.json(unwrap(await named(c.env, c.req.param("name")).sessionDetails(c.req.param("workId"))));
});

adminEnvironmentsRoutes.patch("/environments/:name", async (c) => {
  const stub = named(c.env, c.req.param("name"));
  const patch = parseInput(
    UpdateEnvironmentSchema,
    await readJsonBody(c.req.raw, ADMIN_BODY_LIMIT, "environment update"),
    "environment update",
  );
  const view = unwrap(await stub.update(patch));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "environment.changed",
    target: c.req.param("name"),
    detail: { fields: Object.keys(patch).sort() },
  });
  return c.json(withWebhookUrl(view, c.req.url));
});

adminEnvironmentsRoutes.delete("/environments/:name", async (c) => {
  const name = c.req.param("name");
  const removed = unwrap(await named(c.env, name).remove());
  await registry(c.env).remove("environment", name);
  await recordOperatorAction(c.env, c.get("operator"), { action: "environment.deleted", target: name });
  return c.json(removed);
});

export function environmentStub(env: Env, name: string) {
  return env.MANAGED_ENVIRONMENT.get(env.MANAGED_ENVIRONMENT.idFromName(name));
}

/** Where Anthropic must deliver this environment's webhooks (registered in the Console). */
export function webhookUrl(requestUrl: string, name: string): string {
  return `${new URL(requestUrl).origin}/managed-agents/${name}/webhook`;
}

/** The stub of a name that may exist; names that cannot exist are 404 without touching storage. */
function named(env: Env, name: string) {
  if (!ENVIRONMENT_NAME_PATTERN.test(name)) throw environmentNotFound();
  return environmentStub(env, name);
}

function withWebhookUrl<T extends EnvironmentView>(view: T, requestUrl: string): T & { webhook_url?: string } {
  return view.mode === "webhook" ? { ...view, webhook_url: webhookUrl(requestUrl, view.name) } : view;
}

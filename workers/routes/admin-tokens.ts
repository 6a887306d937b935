import { Hono } from "hono";
import { z } from "zod";
import { type ApiTokenInfo, registry } from "../../durable-objects/registry.ts";
import { BackendScopeSchema } from "../../durable-objects/sandbox/backend-scope.ts";
import { recordOperatorAction } from "../../src/audit/operator-action.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { readJsonBody } from "../../src/http/read-bounded-body.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv } from "../env.ts";
import { adminOnly } from "./admin-only.ts";

/**
 * API tokens (`/admin/tokens`, admin token only): operators mint one per orchestrator; it may create
 * sandboxes and use the ones it created. The secret is shown once, at creation; only its hash is kept.
 * `backends` scopes where its sandboxes may run (durable-objects/sandbox/backend-scope.ts; the
 * edge only unless granted more).
 */
export const adminTokensRoutes = new Hono<EdgeEnv>();

const CreateTokenSchema = z
  .object({ label: z.string().min(1).max(200), backends: BackendScopeSchema.optional() })
  .strict();

adminOnly(adminTokensRoutes, "/tokens");

adminTokensRoutes.post("/tokens", async (c) => {
  const body = await readJsonBody(c.req.raw, 16 * 1024, "token request");
  const { label, backends } = parseInput(CreateTokenSchema, body, "token request");
  const created = await registry(c.env).createApiToken(label, backends);
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "api_token.created",
    target: created.id,
    detail: { label: created.label, backends: created.backends },
  });
  return c.json({ ...toJson(created), token: created.token }, 201);
});

adminTokensRoutes.get("/tokens", async (c) => {
  const tokens = await registry(c.env).listApiTokens();
  return c.json({ tokens: tokens.map(toJson) });
});

adminTokensRoutes.delete("/tokens/:id", async (c) => {
  const id = c.req.param("id");
  if (!(await registry(c.env).revokeApiToken(id))) {
    throw new TetherError("not_found", "no live API token with that id");
  }
  await recordOperatorAction(c.env, c.get("operator"), { action: "api_token.revoked", target: id });
  return c.body(null, 204);
});

function toJson(info: ApiTokenInfo): Record<string, unknown> {
  return {
    id: info.id,
    label: info.label,
    created_at: new Date(info.createdAt).toISOString(),
    revoked_at: info.revokedAt === null ? null : new Date(info.revokedAt).toISOString(),
    backends: info.backends,
  };
}

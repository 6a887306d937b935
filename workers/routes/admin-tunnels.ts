/**
 * Operators' tunnel API (admin token only):
 *
 *   POST   /admin/tunnels                    {name, allowedOrigins?, sseKeepAliveMs?} → 201, tokens shown once
 *   GET    /admin/tunnels                    → {tunnels: TunnelSummary[]}
 *   GET    /admin/tunnels/:name              → TunnelDetail (?traces=N, ?sessions=N)
 *   PATCH  /admin/tunnels/:name              {allowedOrigins?, sseKeepAliveMs?} → {settings}
 *   DELETE /admin/tunnels/:name              → {name, deleted: true}
 *   POST   /admin/tunnels/:name/tokens       {role: "gateway"|"agent"} → 201 {id, role, createdAt, revokedAt, lastUsedAt, token}
 *   DELETE /admin/tunnels/:name/tokens/:id   → {id, role, createdAt, revokedAt, lastUsedAt, closedGateways}
 *   GET    /admin/tunnels/:name/traces       ?server&tool&status&session&before&after&since&until&limit
 *                                            → {rows: StoredTrace[], next} (the call trail, newest first)
 *   GET    /admin/tunnels/:name/sessions     ?server&before&limit → {rows: SessionView[], next}
 *   DELETE /admin/tunnels/:name/sessions/:server/:id → EndedSession (forgotten; the upstream told when reachable)
 *
 * Every change is recorded in the audit trail with the operator's identity (src/audit/operator-action.ts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../durable-objects/registry.ts";
import { TunnelSettingsPatchSchema, TunnelSettingsSchema } from "../../durable-objects/tunnel-relay/settings.ts";
import { TokenRoleSchema } from "../../durable-objects/tunnel-relay/token-store.ts";
import { recordOperatorAction } from "../../src/audit/operator-action.ts";
import { SessionHttpQuerySchema, TraceHttpQuerySchema } from "../../src/audit/time-param.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { readJsonBody } from "../../src/http/read-bounded-body.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv } from "../env.ts";
import { adminOnly } from "./admin-only.ts";
import { namedTunnelStub, TUNNEL_NAME_PATTERN, tunnelStub } from "./tunnels.ts";

export const adminTunnelsRoutes = new Hono<EdgeEnv>();

const ADMIN_BODY_LIMIT = 64 * 1024;

const TunnelNameSchema = z
  .string()
  .regex(TUNNEL_NAME_PATTERN, "tunnel names are [a-z0-9-], at most 63, not starting with -");
const CreateTunnelSchema = TunnelSettingsPatchSchema.extend({ name: TunnelNameSchema }).strict();
const IssueTokenSchema = z.object({ role: TokenRoleSchema }).strict();
const DetailQuerySchema = z.object({
  traces: z.coerce.number().int().min(0).max(500).default(100),
  sessions: z.coerce.number().int().min(0).max(1000).default(100),
});

adminOnly(adminTunnelsRoutes, "/tunnels");

adminTunnelsRoutes.post("/tunnels", async (c) => {
  const input = parse(CreateTunnelSchema, await readJsonBody(c.req.raw, ADMIN_BODY_LIMIT, "tunnel"), "tunnel");
  const { name, ...patch } = input;
  const created = unwrap(await tunnelStub(c.env, name).create(name, TunnelSettingsSchema.parse(patch)));
  await registry(c.env).add("tunnel", name);
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.created",
    tunnel: name,
    detail: { settings: created.settings, tokens: [created.gatewayToken.id, created.agentToken.id] },
  });
  const origin = new URL(c.req.url).origin;
  const { gatewayToken, agentToken, ...tunnel } = created;
  return c.json(
    {
      ...tunnel,
      gatewayToken: gatewayToken.token,
      agentToken: agentToken.token,
      tokens: [gatewayToken, agentToken].map(({ token: _token, ...info }) => info),
      connectUrl: `${origin.replace(/^http/, "ws")}/t/${name}/connect`,
      mcpUrl: `${origin}/t/${name}/{server}/mcp`,
    },
    201,
  );
});

adminTunnelsRoutes.get("/tunnels", async (c) => {
  const entries = await registry(c.env).list("tunnel");
  const summaries = await Promise.all(
    entries.map((entry) =>
      tunnelStub(c.env, entry.name)
        .summary()
        // A name the registry still lists but whose relay no longer holds a tunnel is skipped.
        .then((result) => (result.ok ? result.value : null))
        .catch(() => null),
    ),
  );
  return c.json({ tunnels: summaries.filter((summary) => summary !== null) });
});

adminTunnelsRoutes.get("/tunnels/:name", async (c) => {
  const options = parse(DetailQuerySchema, c.req.query(), "query");
  return c.json(unwrap(await namedTunnelStub(c.env, c.req.param("name")).detail(options)));
});

adminTunnelsRoutes.patch("/tunnels/:name", async (c) => {
  const patch = parse(
    TunnelSettingsPatchSchema.strict(),
    await readJsonBody(c.req.raw, ADMIN_BODY_LIMIT, "settings"),
    "settings",
  );
  const name = c.req.param("name");
  const settings = unwrap(await namedTunnelStub(c.env, name).updateSettings(patch));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.settings_changed",
    tunnel: name,
    detail: { changed: patch, settings },
  });
  return c.json({ settings });
});

adminTunnelsRoutes.delete("/tunnels/:name", async (c) => {
  const name = c.req.param("name");
  unwrap(await namedTunnelStub(c.env, name).destroy());
  await registry(c.env).remove("tunnel", name);
  await recordOperatorAction(c.env, c.get("operator"), { action: "tunnel.deleted", tunnel: name });
  return c.json({ name, deleted: true });
});

adminTunnelsRoutes.post("/tunnels/:name/tokens", async (c) => {
  const { role } = parse(
    IssueTokenSchema,
    await readJsonBody(c.req.raw, ADMIN_BODY_LIMIT, "token request"),
    "token request",
  );
  const name = c.req.param("name");
  const issued = unwrap(await namedTunnelStub(c.env, name).issueToken(role));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.token_created",
    tunnel: name,
    target: issued.id,
    detail: { role },
  });
  return c.json(issued, 201);
});

adminTunnelsRoutes.delete("/tunnels/:name/tokens/:id", async (c) => {
  const name = c.req.param("name");
  const revoked = unwrap(await namedTunnelStub(c.env, name).revokeToken(c.req.param("id")));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.token_revoked",
    tunnel: name,
    target: revoked.id,
    detail: { role: revoked.role, closedGateways: revoked.closedGateways },
  });
  return c.json(revoked);
});

adminTunnelsRoutes.get("/tunnels/:name/traces", async (c) => {
  const query = parseInput(TraceHttpQuerySchema, c.req.query(), "trace query");
  return c.json(unwrap(await namedTunnelStub(c.env, c.req.param("name")).traces(query)));
});

adminTunnelsRoutes.get("/tunnels/:name/sessions", async (c) => {
  const query = parseInput(SessionHttpQuerySchema, c.req.query(), "session query");
  return c.json(unwrap(await namedTunnelStub(c.env, c.req.param("name")).sessions(query)));
});

adminTunnelsRoutes.delete("/tunnels/:name/sessions/:server/:id", async (c) => {
  const { name, server, id } = c.req.param();
  const ended = unwrap(await namedTunnelStub(c.env, name).endSession(server, id));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.session_ended",
    tunnel: name,
    target: `${server}/${id}`,
    detail: { upstream: ended.upstream },
  });
  return c.json(ended);
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new TetherError("bad_request", `invalid ${what}: ${z.prettifyError(result.error)}`);
  return result.data;
}

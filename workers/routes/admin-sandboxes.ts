import { Hono } from "hono";
import { registry } from "../../durable-objects/registry.ts";
import { noSuchSandbox } from "../../durable-objects/sandbox/caller.ts";
import { mapLimited } from "../../src/async/map-limited.ts";
import { TraceHttpQuerySchema } from "../../src/audit/time-param.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv } from "../env.ts";
import { adminOnly } from "./admin-only.ts";
import { namedSandboxStub, sandboxStub } from "./sandbox-stubs.ts";

/**
 * Operators' view of sandboxes (`/admin/sandboxes`, admin token only): the list comes from the
 * Registry, the figures from each sandbox's own Durable Object (asking does not count as activity).
 * `GET /admin/sandboxes/:id/traces?tool&status&session&before&after&since&until&limit` pages through
 * its tool-call trail, newest first (`session` matches the caller: `api:<id>`, `session:<id>`, …).
 */
export const adminSandboxesRoutes = new Hono<EdgeEnv>();

/** Sandboxes asked at once when listing: enough to be quick, few enough not to flood the runtime. */
const LIST_CONCURRENCY = 16;

adminOnly(adminSandboxesRoutes, "/sandboxes");

adminSandboxesRoutes.get("/sandboxes", async (c) => {
  const entries = await registry(c.env).list("sandbox");
  const summaries = await mapLimited(entries, LIST_CONCURRENCY, (entry) => sandboxStub(c.env, entry.name).summary());
  return c.json({ sandboxes: summaries.filter((s) => s !== null) });
});

adminSandboxesRoutes.get("/sandboxes/:id", async (c) => {
  const id = c.req.param("id");
  const details = await namedSandboxStub(c.env, id).inspect();
  if (!details) throw noSuchSandbox();
  return c.json(details);
});

adminSandboxesRoutes.get("/sandboxes/:id/traces", async (c) => {
  const id = c.req.param("id");
  const sandbox = namedSandboxStub(c.env, id);
  const query = parseInput(TraceHttpQuerySchema, c.req.query(), "trace query");
  return c.json(unwrap(await sandbox.traces(query)));
});

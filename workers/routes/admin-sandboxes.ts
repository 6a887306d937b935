import { Hono } from "hono";
import { registry } from "../../durable-objects/registry.ts";
import { noSuchSandbox } from "../../durable-objects/sandbox/caller.ts";
import { SANDBOX_ID_PATTERN } from "../../durable-objects/sandbox/options.ts";
import type { Env } from "../env.ts";
import { adminOnly } from "./admin-only.ts";

/**
 * Operators' view of sandboxes (`/admin/sandboxes`, admin token only): the list comes from the
 * Registry, the figures from each sandbox's own Durable Object (asking does not count as activity).
 */
export const adminSandboxesRoutes = new Hono<{ Bindings: Env }>();

/** Sandboxes asked at once when listing: enough to be quick, few enough not to flood the runtime. */
const LIST_CONCURRENCY = 16;

adminOnly(adminSandboxesRoutes, "/sandboxes");

adminSandboxesRoutes.get("/sandboxes", async (c) => {
  const entries = await registry(c.env).list("sandbox");
  const summaries = await mapLimited(entries, LIST_CONCURRENCY, (entry) =>
    c.env.SANDBOX.get(c.env.SANDBOX.idFromName(entry.name)).summary(),
  );
  return c.json({ sandboxes: summaries.filter((s) => s !== null) });
});

adminSandboxesRoutes.get("/sandboxes/:id", async (c) => {
  const id = c.req.param("id");
  const details = SANDBOX_ID_PATTERN.test(id) ? await c.env.SANDBOX.get(c.env.SANDBOX.idFromName(id)).inspect() : null;
  if (!details) throw noSuchSandbox();
  return c.json(details);
});

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

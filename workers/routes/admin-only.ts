import type { Hono } from "hono";
import { requireAdmin } from "../../src/auth/bearer.ts";
import type { Env } from "../env.ts";

/** Puts `prefix` and every route below it behind the admin token (401 with WWW-Authenticate otherwise). */
export function adminOnly(routes: Hono<{ Bindings: Env }>, prefix: string): void {
  for (const path of [prefix, `${prefix}/*`]) {
    routes.use(path, async (c, next) => {
      requireAdmin(c.req.raw.headers, c.env.TETHER_ADMIN_TOKEN);
      await next();
    });
  }
}

import type { Hono } from "hono";
import { adminOperator } from "../../src/auth/admin-operator.ts";
import type { EdgeEnv } from "../env.ts";

/**
 * Puts `prefix` and every route below it behind the admin token or, when Cloudflare Access is
 * configured, a verified Access JWT (401 with WWW-Authenticate otherwise).
 */
export function adminOnly(routes: Hono<EdgeEnv>, prefix: string): void {
  for (const path of [prefix, `${prefix}/*`]) {
    routes.use(path, async (c, next) => {
      c.set("operator", await adminOperator(c.req.raw.headers, c.env));
      await next();
    });
  }
}

/**
 * The console's stylesheet and script (src/console/assets/registry.ts), cacheable for a year by
 * their hashed names (the security headers middleware keeps a route's own Cache-Control).
 */
import { Hono } from "hono";
import { findAsset } from "../../../src/console/assets/registry.ts";
import type { ConsoleEnv } from "../../env.ts";

export const consoleAssetRoutes = new Hono<ConsoleEnv>();

consoleAssetRoutes.get("/assets/:file", (c) => {
  const asset = findAsset(c.req.param("file"));
  if (!asset) return c.text("no such asset", 404);
  return c.body(asset.body, 200, {
    "content-type": asset.contentType,
    "cache-control": "public, max-age=31536000, immutable",
  });
});

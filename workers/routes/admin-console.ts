/**
 * `POST /admin/console/sign-in-links` (admin token or Access): a one-time link that signs the
 * caller's browser into the console, valid for 10 minutes and for one use (`npm start` prints
 * one). Only the code's hash is stored (durable-objects/registry/sign-in-links.ts).
 */
import { Hono } from "hono";
import { SIGN_IN_LINK_TTL_MS } from "../../durable-objects/registry/sign-in-links.ts";
import { registry } from "../../durable-objects/registry.ts";
import { hashToken, randomBase64url } from "../../src/auth/tokens.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import type { EdgeEnv } from "../env.ts";
import { adminOnly } from "./admin-only.ts";

export const adminConsoleRoutes = new Hono<EdgeEnv>();

adminOnly(adminConsoleRoutes, "/console");

adminConsoleRoutes.post("/console/sign-in-links", async (c) => {
  if (!c.env.TETHER_ADMIN_TOKEN) {
    // Console sessions are signed with a key derived from the admin token.
    throw new TetherError("conflict", "sign-in links need TETHER_ADMIN_TOKEN to be set on this edge");
  }
  const code = randomBase64url(32);
  const expiresAt = Date.now() + SIGN_IN_LINK_TTL_MS;
  await registry(c.env).addSignInLink(await hashToken(code), c.get("operator"), expiresAt);
  const url = `${new URL(c.req.url).origin}/console/sign-in/link/${code}`;
  return c.json({ url, expiresAt: new Date(expiresAt).toISOString() }, 201);
});

import { Hono } from "hono";
import type { Env } from "../env.ts";

export const adminSandboxesRoutes = new Hono<{ Bindings: Env }>();

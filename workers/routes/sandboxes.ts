import { Hono } from "hono";
import type { Env } from "../env.ts";

export const sandboxesRoutes = new Hono<{ Bindings: Env }>();

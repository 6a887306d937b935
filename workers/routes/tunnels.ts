import { Hono } from "hono";
import type { Env } from "../env.ts";

export const tunnelsRoutes = new Hono<{ Bindings: Env }>();

import { Hono } from "hono";
import type { Env } from "../env.ts";

export const adminTunnelsRoutes = new Hono<{ Bindings: Env }>();

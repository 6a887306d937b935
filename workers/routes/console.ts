/**
 * The operator console at /console: server-rendered pages served by the edge Worker itself (no
 * separate deployment, nothing loaded from elsewhere).
 */
import { Hono } from "hono";
import type { ConsoleEnv } from "../env.ts";
import { consolePagesRoutes } from "./console-pages.tsx";

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.route("/", consolePagesRoutes);

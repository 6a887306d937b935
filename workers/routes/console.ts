/**
 * The operator console at /console: server-rendered pages served by the edge Worker itself (no
 * separate deployment, nothing loaded from elsewhere). Its stylesheet and script are public (the
 * sign-in page uses them too); everything else is behind a signed-in operator.
 */
import { Hono } from "hono";
import type { ConsoleEnv } from "../env.ts";
import { consoleAssetRoutes } from "./console/assets.ts";
import { consolePagesRoutes } from "./console-pages.tsx";

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.route("/", consoleAssetRoutes);
consoleRoutes.route("/", consolePagesRoutes);

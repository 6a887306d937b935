/**
 * The operator console at /console: server-rendered pages served by the edge Worker itself (no
 * separate deployment, nothing loaded from elsewhere). Every response carries the security
 * headers; signing in and out and the stylesheet and script are open, everything else needs an
 * operator (console-guard.ts).
 */
import { Hono } from "hono";
import { consoleSecurityHeaders } from "../../src/console/auth/security-headers.ts";
import { errorResponse } from "../../src/errors/error-response.ts";
import type { ConsoleEnv } from "../env.ts";
import { consoleAssetRoutes } from "./console/assets.ts";
import { renderError } from "./console/render.tsx";
import { requireConsoleOperator } from "./console-guard.ts";
import { consolePagesRoutes } from "./console-pages.tsx";
import { consoleSignInRoutes } from "./console-sign-in.tsx";

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.use("*", consoleSecurityHeaders);
consoleRoutes.route("/", consoleAssetRoutes);
consoleRoutes.route("/", consoleSignInRoutes);
consoleRoutes.use("*", requireConsoleOperator);
consoleRoutes.route("/", consolePagesRoutes);
// Errors are answered here (not by the app) so the security headers middleware still sees them: a
// signed-in operator's as a page, anyone else's (no session, a refused sign-in) as the API's JSON.
consoleRoutes.onError((error, c) => (c.get("operator") === undefined ? errorResponse(error) : renderError(c, error)));

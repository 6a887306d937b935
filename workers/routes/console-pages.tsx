/**
 * The console's pages (each behind a signed-in operator): one Hono app per area under
 * ./console/, mounted here. Failures render as console pages, not JSON.
 */
import { Hono } from "hono";
import type { ConsoleEnv } from "../env.ts";
import { apiTokensRoutes } from "./console/api-tokens.tsx";
import { renderError } from "./console/render.tsx";
import { sandboxFilesRoutes } from "./console/sandbox-files.tsx";
import { sandboxPageRoutes } from "./console/sandbox-page.tsx";
import { sandboxesListRoutes } from "./console/sandboxes-list.tsx";
import { tunnelActionRoutes } from "./console/tunnel-actions.ts";
import { tunnelPageRoutes } from "./console/tunnel-page.tsx";
import { tunnelTokensRoutes } from "./console/tunnel-tokens.tsx";
import { tunnelTraceRoutes } from "./console/tunnel-trace.tsx";
import { tunnelsListRoutes } from "./console/tunnels-list.tsx";

export const consolePagesRoutes = new Hono<ConsoleEnv>();

for (const routes of [
  tunnelsListRoutes,
  tunnelTraceRoutes,
  tunnelPageRoutes,
  tunnelTokensRoutes,
  tunnelActionRoutes,
  sandboxesListRoutes,
  sandboxPageRoutes,
  sandboxFilesRoutes,
  apiTokensRoutes,
]) {
  consolePagesRoutes.route("/", routes);
}

consolePagesRoutes.onError((error, c) => renderError(c, error));

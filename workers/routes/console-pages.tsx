/** The console's pages (each behind a signed-in operator). */
import { Hono } from "hono";
import { Layout } from "../../src/console/layout.tsx";
import type { ConsoleEnv } from "../env.ts";

export const consolePagesRoutes = new Hono<ConsoleEnv>();

consolePagesRoutes.get("/", (c) =>
  c.html(
    <Layout title="Tether">
      <h1>Tether</h1>
    </Layout>,
  ),
);

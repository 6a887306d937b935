import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Three kinds of tests, each where its code runs:
//  - workers: edge code inside workerd (the vitest plugin),
//  - node: the gateway, CLI and client in Node,
//  - e2e: the real edge in workerd plus real gateway processes and MCP servers.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The admin secret tests use (production sets it with `wrangler secret put`).
            miniflare: { bindings: { TETHER_ADMIN_TOKEN: "test-admin-token" } },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          // Bounds against hangs, not speed checks: on a loaded 2-core machine the first request to
          // a fresh workerd module can take seconds (vitest's default of 5 s was seen to trip).
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each file starts its own edge and processes; two cores, so keep the parallelism small.
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});

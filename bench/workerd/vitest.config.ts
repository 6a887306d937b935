import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Measurements that must run inside workerd next to the code they time (the worker loader, a
// Durable Object's SQLite): the same runtime as the `workers` test project, but run by
// `npm run bench` (workerd.bench.ts), never by `npm test`.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../../wrangler.toml" },
      miniflare: { bindings: { TETHER_ADMIN_TOKEN: "bench-admin-token" } },
    }),
  ],
  test: {
    name: "workerd-bench",
    include: ["*.measure.ts"],
    testTimeout: 300_000,
    // One file at a time: the measurements share two cores.
    fileParallelism: false,
  },
});

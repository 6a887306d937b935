/**
 * `npm run bench [tunnel|sandbox|sandbox-cpu|sandbox-large-file|workerd|managed-agents|executor|audit|console]`: runs the benchmark suites (all by
 * default), each printing its
 * tables and writing JSON under bench/results/. Every load is bounded in count and time.
 */
export {}; // A module, so top-level await is allowed.

const suites: Record<string, () => Promise<{ default: () => Promise<void> }>> = {
  tunnel: () => import("./tunnel.bench.ts"),
  sandbox: () => import("./sandbox.bench.ts"),
  "sandbox-cpu": () => import("./sandbox-cpu.bench.ts"),
  workerd: () => import("./workerd.bench.ts"),
  "sandbox-large-file": () => import("./sandbox-large-file.bench.ts"),
  "managed-agents": () => import("./managed-agents.bench.ts"),
  executor: () => import("./executor.bench.ts"),
  audit: () => import("./audit.bench.ts"),
  console: () => import("./console.bench.ts"),
};

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!(name in suites)) throw new Error(`unknown suite "${name}"; known: ${Object.keys(suites).join(", ")}`);
process.env.WRANGLER_SEND_METRICS = "false";
for (const name of wanted.length ? wanted : Object.keys(suites)) {
  console.log(`\n=== ${name} ===`);
  const suite = await suites[name]!();
  await suite.default();
}
process.exit(0);

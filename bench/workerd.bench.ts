/**
 * Measurements inside workerd (bench/workerd/*.measure.ts), run through vitest's workers pool the
 * way the `workers` tests are, and reported like every other suite: a table and a JSON file.
 */
import { fileURLToPath } from "node:url";
import { startVitest } from "vitest/node";
import { printTable, type Row, writeResults } from "./lib/report.ts";
import "./workerd/record.ts";

/** The audit trail's and the console's measurements are their own suites (audit.bench.ts, console.bench.ts). */
export default function workerdBench(): Promise<void> {
  return runWorkerdMeasures("workerd", [], ["audit.measure.ts", "console.measure.ts"]);
}

/** Runs the measurement files matching `filters` (all when empty) but `exclude`, and reports them as `suite`. */
export async function runWorkerdMeasures(suite: string, filters: string[], exclude: string[] = []): Promise<void> {
  const root = fileURLToPath(new URL("./workerd/", import.meta.url));
  const vitest = await startVitest("test", filters, {
    root,
    config: `${root}vitest.config.ts`,
    watch: false,
    reporters: ["dot"],
    exclude,
  });
  try {
    const rows: Row[] = [];
    const failed: string[] = [];
    for (const file of vitest.state.getFiles()) {
      for (const task of file.tasks) {
        if (task.result?.state !== "pass") failed.push(`${file.name} > ${task.name}`);
        rows.push(...(task.meta.benchRows ?? []));
      }
    }
    printTable("Inside workerd", rows);
    console.log(`\nresults: ${writeResults(suite, { rows })}`);
    if (failed.length) throw new Error(`workerd measurements failed: ${failed.join("; ")}`);
  } finally {
    await vitest.close();
  }
}

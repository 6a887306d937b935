/**
 * Measurements inside workerd (bench/workerd/*.measure.ts), run through vitest's workers pool the
 * way the `workers` tests are, and reported like every other suite: a table and a JSON file.
 */
import { fileURLToPath } from "node:url";
import { startVitest } from "vitest/node";
import { printTable, type Row, writeResults } from "./lib/report.ts";
import "./workerd/record.ts";

/** The console's pages have their own suite (console.bench.ts). */
const OWN_SUITES = ["console.measure.ts"];

export default function workerdBench(): Promise<void> {
  return runMeasures("workerd", "Inside workerd", { exclude: OWN_SUITES });
}

/** Runs the measurement files named in `files` (all but `exclude` when not given) and reports them. */
export async function runMeasures(
  name: string,
  title: string,
  select: { files?: string[]; exclude?: string[] },
): Promise<void> {
  const root = fileURLToPath(new URL("./workerd/", import.meta.url));
  const vitest = await startVitest("test", select.files ?? [], {
    root,
    config: `${root}vitest.config.ts`,
    watch: false,
    reporters: ["dot"],
    ...(select.exclude ? { exclude: select.exclude } : {}),
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
    printTable(title, rows);
    console.log(`\nresults: ${writeResults(name, { rows })}`);
    if (failed.length) throw new Error(`workerd measurements failed: ${failed.join("; ")}`);
  } finally {
    await vitest.close();
  }
}

/**
 * The operator console's server time with a tunnel holding 10,000 sessions and 100,000 audit rows
 * (bench/workerd/console.measure.ts), measured inside workerd.
 */
import { runMeasures } from "./workerd.bench.ts";

export default function consoleBench(): Promise<void> {
  return runMeasures("console", "Console pages (server time inside workerd)", { files: ["console.measure.ts"] });
}

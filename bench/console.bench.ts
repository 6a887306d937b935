/**
 * The operator console's server time with a tunnel holding 10,000 sessions and 100,000 audit rows
 * (bench/workerd/console.measure.ts), measured inside workerd.
 */
import { runWorkerdMeasures } from "./workerd.bench.ts";

export default function consoleBench(): Promise<void> {
  return runWorkerdMeasures("console", ["console.measure.ts"]);
}

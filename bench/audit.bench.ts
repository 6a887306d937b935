/**
 * The audit trail's costs (`npm run bench audit`), measured inside workerd next to the code
 * (bench/workerd/audit.measure.ts): (a) what recording a tunnel call's trace adds to the call,
 * recorded vs not in the same run, and its halves (the in-memory add on the call's path, the
 * batched flush off it); (b) GET /admin/metrics with 100,000 trace rows in a tunnel.
 */
import { runWorkerdMeasures } from "./workerd.bench.ts";

export default function auditBench(): Promise<void> {
  return runWorkerdMeasures("audit", ["audit.measure.ts"]);
}

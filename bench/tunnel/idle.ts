/**
 * Idle memory of a connected gateway: the one under load runs from the TypeScript sources (Node's
 * type stripping and unbundled modules included); the shipped bundle (dist/tether-gateway.mjs,
 * `npm run build`) is measured too when it exists, in a second process that connects to the same
 * tunnel, is measured and stops again before any load.
 */
import { existsSync, statSync } from "node:fs";
import { ROOT } from "../../test/helpers/edge.ts";
import { startGateway } from "../../test/helpers/processes.ts";
import { rssMiB } from "../lib/memory.ts";
import type { Row } from "../lib/report.ts";
import type { BenchSetup } from "./setup.ts";

const SETTLE_MS = 1_500;
const BUNDLE = `${ROOT}dist/tether-gateway.mjs`;

export interface IdleMemory {
  rows: Row[];
  /** Idle RSS of each gateway measured, by how it ran. */
  gateways: { kind: "sources" | "bundle"; mib: number }[];
}

export async function measureIdle(setup: BenchSetup): Promise<IdleMemory> {
  await settle();
  const sources = rssMiB(setup.gateway.pid);
  const rows: Row[] = [
    { process: "gateway (src/cli/main.ts, type stripping)", idle_rss_mib: sources },
    { process: "edge (workerd)", idle_rss_mib: rssMiB(setup.workerdPid) },
  ];
  if (!existsSync(BUNDLE)) {
    rows.push({ process: "gateway bundle", idle_rss_mib: "not built (npm run build)" });
    return { rows, gateways: [{ kind: "sources", mib: sources }] };
  }
  const bundled = await startGateway({
    edge: setup.edge.url,
    token: setup.tunnel.gatewayToken,
    servers: [`echo=${setup.echo.url}`, `everything=${setup.everything.url}`],
    bundle: true,
  });
  try {
    await settle();
    const bundle = rssMiB(bundled.pid);
    const built = statSync(BUNDLE).mtime.toISOString();
    rows.splice(1, 0, { process: `gateway (dist/tether-gateway.mjs, built ${built})`, idle_rss_mib: bundle });
    return {
      rows,
      gateways: [
        { kind: "sources", mib: sources },
        { kind: "bundle", mib: bundle },
      ],
    };
  } finally {
    await bundled.stop("SIGTERM", 10_000);
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/**
 * How benchmarks and their tests bind the bench-only WebSocket echo Worker (./ws-echo-worker.ts)
 * beside the edge (test/helpers/edge.ts, `workers` option), and where to reach it.
 */
import { fileURLToPath } from "node:url";
import type { ExtraWorker } from "../../test/helpers/edge.ts";

export const WS_ECHO_WORKER: ExtraWorker = {
  name: "tether-bench-echo",
  entry: fileURLToPath(new URL("./ws-echo-worker.ts", import.meta.url)),
  routes: ["*/bench/echo/*"],
  durableObjects: { ECHO: "EchoSocket" },
};

/** The echo socket on the Durable Object `name`. */
export function echoSocketUrl(edgeUrl: string, name: string): string {
  return `${edgeUrl.replace(/^http/, "ws")}/bench/echo/${name}`;
}

/**
 * Starts the real edge (the Worker and its Durable Objects in workerd) in-process through
 * wrangler's Miniflare-backed test harness. Tests and benchmarks share this helper so both
 * measure and exercise the same thing. No `wrangler dev` proxy sits in front of it.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createTestHarness } from "wrangler";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningEdge {
  url: string;
  adminToken: string;
  harness: ReturnType<typeof createTestHarness>;
  /** Evicts a Durable Object instance (storage kept), as the runtime would after idling. */
  evict(binding: "TUNNEL_RELAY" | "SANDBOX" | "REGISTRY", name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startEdge(options: { adminToken?: string } = {}): Promise<RunningEdge> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const adminToken = options.adminToken ?? `adm_${randomBytes(16).toString("hex")}`;
  const harness = createTestHarness({
    root: ROOT,
    workers: [{ configPath: "./wrangler.toml", secrets: { TETHER_ADMIN_TOKEN: adminToken } }],
  });
  const { url } = await harness.listen();
  const base = url.toString().replace(/\/$/, "");
  return {
    url: base,
    adminToken,
    harness,
    async evict(binding, name) {
      await harness.getWorker().evictDurableObject(binding, { name, webSockets: "close" });
    },
    close: () => harness.close(),
  };
}

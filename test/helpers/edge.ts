/**
 * Starts the real edge (the Worker and its Durable Objects in workerd) in-process through
 * Miniflare's API, the way `wrangler dev` runs it minus the proxy workerd that `wrangler dev` and
 * wrangler's test harness put in front of it (that hop cost more CPU per request than the Worker).
 * Tests and benchmarks share this helper so both measure and exercise the same thing.
 *
 * - The Worker is the bundle `wrangler deploy` would upload (edge-bundle.ts, cached across runs);
 *   its bindings, Durable Object classes (SQLite), worker loader and compatibility settings come
 *   from wrangler.toml through wrangler's own conversion to Miniflare options.
 * - The Miniflare is the one wrangler itself depends on, so it matches wrangler's option shapes
 *   and workerd version.
 * - Local observability (wrangler's trace collector, a SQLite write per invocation) stays off, as
 *   do request logging and the local explorer: production has none of them on the request path.
 *   No network at start-up: `request.cf` is Miniflare's placeholder.
 * - Storage lives in a temporary directory Miniflare removes on close. Workers' console output is
 *   dropped unless TETHER_EDGE_LOGS=1 (the edge's own errors reach clients as responses); `onLog`
 *   receives it either way.
 * - Extra Workers (`workers`) run beside the edge in the same workerd, for what must never ship in
 *   the edge's bundle (a benchmark's floor, say): each is bundled here with esbuild and answers
 *   the edge URL's requests that match its Miniflare routes; everything else reaches the edge.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join, parse } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import {
  type createTestHarness,
  type SourcelessWorkerOptions,
  type Unstable_MiniflareWorkerOptions,
  unstable_getMiniflareWorkerOptions,
  unstable_readConfig,
} from "wrangler";
import { z } from "zod";
import { type EdgeModule, edgeBundle } from "./edge-bundle.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

type DurableObjectBinding = "TUNNEL_RELAY" | "SANDBOX" | "REGISTRY" | "MANAGED_ENVIRONMENT" | "SESSION_RUNNER";

export interface RunningEdge {
  url: string;
  adminToken: string;
  /** Not set: the edge runs without wrangler's test harness (see the module comment). */
  harness?: ReturnType<typeof createTestHarness>;
  /** Evicts a Durable Object instance (storage kept), as the runtime would after idling. */
  evict(binding: DurableObjectBinding, name: string): Promise<void>;
  close(): Promise<void>;
}

/** A Worker run beside the edge (see the module comment). */
export interface ExtraWorker {
  name: string;
  /** Its module (TypeScript or JavaScript); `cloudflare:*` imports stay external. */
  entry: string;
  /** Miniflare routes on the edge's URL that reach this Worker, e.g. "*\/bench/echo/*". */
  routes: string[];
  /**
   * Durable Object bindings: binding name → class exported by `entry`, or `{ edgeClass }`: a class
   * of the edge itself (its objects, the very instances the edge uses), e.g. to drive them in tests.
   */
  durableObjects?: Record<string, string | { edgeClass: string }>;
}

/** What this helper reads from wrangler's normalised config (wrangler's `Config` type does not resolve here). */
const WranglerConfigSchema = z.object({
  name: z.string(),
  main: z.string(),
  compatibility_date: z.string(),
  vars: z.record(z.string(), z.json()),
  durable_objects: z.object({ bindings: z.array(z.object({ name: z.string(), class_name: z.string() })) }),
});

/** The part of Miniflare's API used here (typed locally: the package is wrangler's dependency, not ours). */
interface MiniflareOptions {
  rootPath: string;
  host: string;
  port: number;
  logRequests: boolean;
  unsafeObservability: boolean;
  unsafeLocalExplorer: boolean;
  cf: boolean;
  handleStructuredLogs: (log: { level: string; message: string }) => void;
  workers: Array<
    | (SourcelessWorkerOptions & { name: string; modulesRoot: string; modules: EdgeModule[] })
    | Unstable_MiniflareWorkerOptions["externalWorkers"][number]
    | ExtraWorkerOptions
  >;
}
interface ExtraWorkerOptions {
  name: string;
  modules: true;
  script: string;
  compatibilityDate: string;
  routes: string[];
  durableObjects: Record<string, string | { className: string; scriptName: string }>;
}
interface Miniflare {
  readonly ready: Promise<URL>;
  unsafeEvictDurableObject(
    scriptName: string,
    className: string,
    options: { name: string; webSockets?: "close" | "hibernate" },
  ): Promise<void>;
  dispose(): Promise<void>;
}
interface MiniflareModule {
  Miniflare: new (options: unknown) => Miniflare;
  /** Wrangler's worker options are Miniflare's v4 shape; Miniflare 5's constructor takes the converted form. */
  convertV4MiniflareOptions(options: MiniflareOptions): unknown;
}

export interface StartEdgeOptions {
  adminToken?: string;
  workers?: ExtraWorker[];
  /** Extra plain-text bindings (e.g. ACCESS_TEAM_DOMAIN), on top of wrangler.toml's vars. */
  vars?: Record<string, string>;
  /** Receives every console line of the edge's Workers and Durable Objects (tests scan them for secrets). */
  onLog?: (log: { level: string; message: string }) => void;
}

export async function startEdge(options: StartEdgeOptions = {}): Promise<RunningEdge> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const adminToken = options.adminToken ?? `adm_${randomBytes(16).toString("hex")}`;
  const configPath = join(ROOT, "wrangler.toml");
  const rawConfig = quietly(() => unstable_readConfig({ config: configPath }));
  const config = WranglerConfigSchema.parse(rawConfig);
  const { workerOptions, externalWorkers } = quietly(() => unstable_getMiniflareWorkerOptions(rawConfig));
  const bundle = await edgeBundle(ROOT, configPath, `${parse(config.main).name}.js`);
  const extraWorkers = await Promise.all(
    (options.workers ?? []).map((worker) => extraWorkerOptions(worker, config.compatibility_date, config.name)),
  );

  const { Miniflare, convertV4MiniflareOptions } = loadMiniflare();
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      rootPath: ROOT,
      host: "127.0.0.1",
      port: 0,
      logRequests: false,
      unsafeObservability: false,
      unsafeLocalExplorer: false,
      // A placeholder Request.cf instead of fetching Cloudflare's (offline that fetch waits up to 3 s).
      cf: false,
      handleStructuredLogs: (log) => {
        options.onLog?.(log);
        if (process.env.TETHER_EDGE_LOGS === "1") printLog(log);
      },
      workers: [
        {
          ...workerOptions,
          name: config.name,
          rootPath: ROOT,
          modulesRoot: bundle.dir,
          modules: bundle.modules,
          // Only wrangler.toml's vars and the admin token: a developer's .dev.vars must not leak in.
          bindings: { ...config.vars, ...options.vars, TETHER_ADMIN_TOKEN: adminToken },
        },
        ...externalWorkers,
        ...extraWorkers,
      ],
    }),
  );
  let url: URL;
  try {
    url = await miniflare.ready;
  } catch (error) {
    await miniflare.dispose().catch(() => {});
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    url: url.toString().replace(/\/$/, ""),
    adminToken,
    async evict(binding, name) {
      const className = config.durable_objects.bindings.find((entry) => entry.name === binding)?.class_name;
      if (!className) throw new Error(`no Durable Object binding ${binding} in ${configPath}`);
      await miniflare.unsafeEvictDurableObject(config.name, className, { name, webSockets: "close" });
    },
    close() {
      closed ??= miniflare.dispose();
      return closed;
    },
  };
}

/** An extra Worker bundled for Miniflare, on the edge's compatibility date. */
async function extraWorkerOptions(
  worker: ExtraWorker,
  compatibilityDate: string,
  edgeName: string,
): Promise<ExtraWorkerOptions> {
  const built = await build({
    entryPoints: [worker.entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*"],
    write: false,
    logLevel: "silent",
  });
  const script = built.outputFiles[0]?.text;
  if (script === undefined) throw new Error(`bundling ${worker.entry} produced nothing`);
  return {
    name: worker.name,
    modules: true,
    script,
    compatibilityDate,
    routes: worker.routes,
    durableObjects: Object.fromEntries(
      Object.entries(worker.durableObjects ?? {}).map(([binding, target]) => [
        binding,
        typeof target === "string" ? target : { className: target.edgeClass, scriptName: edgeName },
      ]),
    ),
  };
}

/** Miniflare as resolved from wrangler's own location (the version wrangler's options are made for). */
function loadMiniflare(): MiniflareModule {
  const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler"));
  return fromWrangler("miniflare") as MiniflareModule;
}

/** Runs wrangler's config readers without their console notes ("Using secrets defined in .dev.vars"). */
function quietly<T>(read: () => T): T {
  const previous = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "error";
  try {
    return read();
  } finally {
    if (previous === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = previous;
  }
}

function printLog({ level, message }: { level: string; message: string }): void {
  process.stderr.write(`[edge ${level}] ${message}\n`);
}

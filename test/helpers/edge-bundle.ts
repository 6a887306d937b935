/**
 * The edge Worker bundled exactly as `wrangler deploy` bundles it (`wrangler deploy --dry-run
 * --outdir`), cached across processes so that every test file and benchmark does not pay for a
 * build (a few seconds on two busy cores).
 *
 * Cache layout, under node_modules/.cache/tether-edge/:
 *   <key>/out/          wrangler's output directory (edge.js, its source map, any extra modules)
 *   <key>/inputs.json   { file: sha256 } for every file esbuild read (from its metafile) plus the
 *                       files that steer the build (wrangler.toml, tsconfig.json, package.json,
 *                       wrangler's own version); <key> is the hash of this manifest
 *   .build-lock/pid     held (mkdir is atomic) by the one process building; others wait for it
 * An entry is reused while every file it lists still has the same content, so editing code the
 * edge does not import (the gateway, the CLI) does not force a rebuild. A new import can only
 * appear through an edit to a listed file (imports name their files with explicit extensions, so
 * a new file cannot silently take over an existing import).
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";

export interface EdgeModule {
  type: "ESModule" | "CommonJS" | "CompiledWasm" | "Text" | "Data";
  path: string;
}

export interface EdgeBundle {
  /** wrangler's output directory (the modules root). */
  dir: string;
  /** Every module, the entry first. */
  modules: EdgeModule[];
}

const BUILD_STEERING_FILES = ["wrangler.toml", "tsconfig.json", "package.json", "node_modules/wrangler/package.json"];
const BUILD_TIMEOUT_MS = 180_000;
const LOCK_STALE_MS = BUILD_TIMEOUT_MS + 30_000;
const LOCK_WAIT_MS = 2 * LOCK_STALE_MS;
const KEEP_ENTRIES = 6;

const MODULE_TYPES: Record<string, EdgeModule["type"]> = {
  ".js": "ESModule",
  ".mjs": "ESModule",
  ".cjs": "CommonJS",
  ".wasm": "CompiledWasm",
  ".txt": "Text",
  ".html": "Text",
  ".sql": "Text",
  ".bin": "Data",
};

/** The edge bundle for the sources as they are now: from the cache, or built (once across processes). */
export async function edgeBundle(root: string, configPath: string, entryName: string): Promise<EdgeBundle> {
  const cache = join(root, "node_modules/.cache/tether-edge");
  await mkdir(cache, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const cached = await findCurrent(root, cache);
    if (cached) return bundleAt(join(cache, cached), entryName);
    if (await takeLock(cache)) {
      try {
        // Another process may have finished a build between our look-up and taking the lock.
        const built = (await findCurrent(root, cache)) ?? (await build(root, cache, configPath));
        await prune(cache, built);
        return bundleAt(join(cache, built), entryName);
      } finally {
        await rm(join(cache, ".build-lock"), { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw new Error(`edge bundle: gave up waiting for ${join(cache, ".build-lock")}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function bundleAt(entry: string, entryName: string): Promise<EdgeBundle> {
  const dir = join(entry, "out");
  const files = (await readdir(dir)).filter((name) => !name.endsWith(".map") && name !== "README.md");
  if (!files.includes(entryName)) throw new Error(`edge bundle: ${entryName} missing from ${dir}`);
  const modules = [entryName, ...files.filter((name) => name !== entryName).sort()].map((name) => {
    const type = MODULE_TYPES[extname(name)];
    if (!type) throw new Error(`edge bundle: no module type for ${join(dir, name)}`);
    return { type, path: join(dir, name) };
  });
  return { dir, modules };
}

/** The newest cache entry whose listed inputs all still hash the same, touched so pruning keeps it. */
async function findCurrent(root: string, cache: string): Promise<string | undefined> {
  for (const name of await entriesNewestFirst(cache)) {
    let inputs: Record<string, string>;
    try {
      inputs = JSON.parse(await readFile(join(cache, name, "inputs.json"), "utf8"));
    } catch {
      continue; // an entry from an interrupted build, or one being pruned
    }
    if (await matches(root, inputs)) {
      const now = new Date();
      await utimes(join(cache, name), now, now).catch(() => {});
      return name;
    }
  }
  return undefined;
}

async function matches(root: string, inputs: Record<string, string>): Promise<boolean> {
  const checks = await Promise.all(
    Object.entries(inputs).map(async ([file, hash]) => (await hashFile(join(root, file))) === hash),
  );
  return checks.every(Boolean);
}

async function hashFile(path: string): Promise<string | undefined> {
  try {
    return createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
  } catch {
    return undefined;
  }
}

async function build(root: string, cache: string, configPath: string): Promise<string> {
  const work = join(cache, `.build-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const metafile = join(work, "meta.json");
    await runWrangler(root, [
      "deploy",
      "--dry-run",
      "--config",
      configPath,
      "--outdir",
      join(work, "out"),
      "--metafile",
      metafile,
    ]);
    const meta = JSON.parse(await readFile(metafile, "utf8")) as { inputs: Record<string, unknown> };
    // esbuild names inputs relative to the working directory (root); "ns:path" names are virtual.
    const files = [...Object.keys(meta.inputs).filter((file) => !/^[\w-]+:/.test(file)), ...BUILD_STEERING_FILES];
    const inputs: Record<string, string> = {};
    for (const file of [...new Set(files)].sort()) {
      const hash = await hashFile(join(root, file));
      if (hash === undefined) throw new Error(`edge bundle: cannot read build input ${file}`);
      inputs[file] = hash;
    }
    const manifest = JSON.stringify(inputs, null, 1);
    await writeFile(join(work, "inputs.json"), manifest);
    await rm(metafile);
    const key = createHash("sha256").update(manifest).digest("hex").slice(0, 20);
    try {
      await rename(work, join(cache, key));
    } catch (error) {
      // The same key means the same inputs: an entry another process built is as good as ours.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    }
    return key;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function runWrangler(root: string, args: string[]): Promise<void> {
  const wranglerBin = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [wranglerBin, ...args],
      {
        cwd: root,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "warn" },
        timeout: BUILD_TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`wrangler ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve();
      },
    );
  });
}

async function takeLock(cache: string): Promise<boolean> {
  const lock = join(cache, ".build-lock");
  try {
    await mkdir(lock);
    await writeFile(join(lock, "pid"), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  // A builder that died (a test run interrupted) leaves its lock behind: break it once its process
  // is gone, or once it is older than any build could take. Two waiters breaking it at once cost
  // at worst a second build (entries are keyed by content).
  const age = await stat(lock).then(
    (info) => Date.now() - info.mtimeMs,
    () => 0,
  );
  const owner = Number(await readFile(join(lock, "pid"), "utf8").catch(() => ""));
  const ownerGone = owner > 0 ? !isAlive(owner) : age > 10_000;
  if (ownerGone || age > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Keeps the newest entries (and `keep`); a bundle is read only while an edge starts, so older ones can go. */
async function prune(cache: string, keep: string): Promise<void> {
  const stale = (await entriesNewestFirst(cache)).filter((name) => name !== keep).slice(KEEP_ENTRIES - 1);
  await Promise.all(stale.map((name) => rm(join(cache, name), { recursive: true, force: true })));
}

async function entriesNewestFirst(cache: string): Promise<string[]> {
  const names = (await readdir(cache)).filter((name) => !name.startsWith("."));
  const dated = await Promise.all(
    names.map(async (name) => ({
      name,
      mtime: await stat(join(cache, name)).then(
        (info) => info.mtimeMs,
        () => 0,
      ),
    })),
  );
  return dated.sort((a, b) => b.mtime - a.mtime).map((entry) => entry.name);
}

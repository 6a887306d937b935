/**
 * What the local scripts (`npm start`, `npm run demo:managed-agents`) share: the admin token in
 * `.dev.vars`, the edge run in workerd by `wrangler dev` on 127.0.0.1, and child processes that
 * are all stopped (by their own PIDs) when the script stops.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const PORT = Number(process.env.TETHER_PORT ?? 8787);
export const EDGE = `http://127.0.0.1:${PORT}`;

const children: ChildProcess[] = [];
let stopping = false;
const cleanups: (() => Promise<void> | void)[] = [];
const afterChildren: (() => Promise<void> | void)[] = [];

/** The admin token from `.dev.vars`, written there (random) when there is none. */
export function adminToken(): string {
  const path = `${ROOT}.dev.vars`;
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "";
  const match = /^TETHER_ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(existing);
  if (match) return match[1] as string;
  const token = `adm_${randomBytes(24).toString("hex")}`;
  writeFileSync(path, `${existing}${existing && !existing.endsWith("\n") ? "\n" : ""}TETHER_ADMIN_TOKEN="${token}"\n`);
  console.log("wrote a new admin token to .dev.vars");
  return token;
}

/** Starts a child whose output is printed with a label; if it exits on its own, everything stops. */
export function startChild(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => `[${label}] ${line}`)
      .join("\n");
  child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(`${prefix(chunk)}\n`));
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(`${prefix(chunk)}\n`));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[${label}] exited (${signal ?? code}); stopping`);
      void stopAll(1);
    }
  });
  children.push(child);
  return child;
}

/** Runs the edge with `wrangler dev` and waits until it answers. */
export async function startLocalEdge(): Promise<void> {
  const wranglerEnv = {
    WRANGLER_SEND_METRICS: "false",
    XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME ?? `${ROOT}.wrangler/config`,
  };
  // wrangler's package exports do not include its bin script: locate it beside its package.json.
  const wrangler = createRequire(import.meta.url)
    .resolve("wrangler/package.json")
    .replace(/package\.json$/, "bin/wrangler.js");
  startChild("edge", process.execPath, [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(PORT)], wranglerEnv);
  await waitForEdge(60_000);
}

async function waitForEdge(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${EDGE}/ping`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the edge did not answer on ${EDGE} within ${timeoutMs / 1000} s`);
}

/** Something to undo when the script stops (before the children are stopped). */
export function onStop(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** Something to undo once every child has exited (a folder a child was using, say). */
export function onStopped(cleanup: () => Promise<void> | void): void {
  afterChildren.push(cleanup);
}

/** Stops every child by its PID (SIGTERM), waits for them, and exits. */
export async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const cleanup of cleanups.splice(0)) await Promise.resolve(cleanup()).catch(() => {});
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGTERM");
  await Promise.all(
    children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : null)),
  );
  for (const cleanup of afterChildren.splice(0)) await Promise.resolve(cleanup()).catch(() => {});
  process.exit(code);
}

/** Ctrl-C and SIGTERM stop everything cleanly. */
export function stopOnSignals(): void {
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
}

/**
 * Real processes for end-to-end tests and benchmarks: the gateway (`src/cli/main.ts gateway`, or
 * the bundle), server-everything over Streamable HTTP, and any other command. Each process runs
 * under the project's Node 22, its output is kept for assertions and failure messages, and
 * `stop()` ends it by its own PID (SIGTERM, then SIGKILL after a bound). `stopAll()` is the
 * safety net for afterAll/afterEach: it stops whatever is still running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { descendantsOf } from "../../src/gateway/executor/process/sandbox-launch.ts";
import { ROOT } from "./edge.ts";
import { EVERYTHING, isAlive, NODE, within } from "./stdio-fixtures.ts";

export { EVERYTHING, FILESYSTEM, isAlive, NODE } from "./stdio-fixtures.ts";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first output line matching `pattern` (searching what was already written too). */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  readonly exited: Promise<Exit>;
  /** Sends `signal`, waits up to `ms`, then SIGKILLs; resolves with how the process ended. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<Exit>;
}

const running = new Set<RunningProcess>();

export function spawnProcess(
  label: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  // What the process reads on standard input, then end of file.
  if (options.input !== undefined) child.stdin?.end(options.input);
  if (child.pid === undefined) throw new Error(`${label}: could not start ${command}`);
  let output = "";
  const watchers = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const watcher of watchers) watcher();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(handle);
      resolve({ code, signal });
    });
  });
  const pid = child.pid;
  const handle: RunningProcess = {
    label,
    child,
    pid,
    output: () => output,
    async waitFor(pattern, ms = 20_000) {
      const find = () => output.split("\n").find((line) => pattern.test(line));
      const found = find();
      if (found !== undefined) return found;
      let watcher: (() => void) | undefined;
      try {
        return await within(
          new Promise<string>((resolve, reject) => {
            watcher = () => {
              const line = find();
              if (line !== undefined) resolve(line);
            };
            watchers.add(watcher);
            void exited.then((exit) =>
              reject(new Error(`${label} exited (${exit.signal ?? exit.code}) before printing ${pattern}:\n${output}`)),
            );
          }),
          ms,
          `${label} to print ${pattern}\n--- output so far ---\n${output}`,
        );
      } finally {
        if (watcher) watchers.delete(watcher);
      }
    },
    exited,
    async stop(signal = "SIGTERM", ms = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      process.kill(pid, signal);
      try {
        return await within(exited, ms, `${label} (pid ${pid}) to exit after ${signal}`);
      } catch {
        if (isAlive(pid)) process.kill(pid, "SIGKILL");
        return exited;
      }
    },
  };
  running.add(handle);
  return handle;
}

/** Stops every process these helpers started that is still running (SIGKILL after the bound). */
export async function stopAll(ms = 15_000): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop("SIGTERM", ms)));
}

export interface GatewayProcessOptions {
  edge: string;
  token: string;
  tunnel?: string;
  /** `NAME=TARGET` entries, as for --server. */
  servers: string[];
  /** More flags (--header, --allow-path, --config, --drain-timeout-ms ...). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Run dist/tether-gateway.mjs (built beforehand) instead of the TypeScript sources. */
  bundle?: boolean;
  /** Run this file instead (a copy of the bundle somewhere else, say). */
  entry?: string;
  cwd?: string;
}

/** Starts `tether gateway` as a real process; resolves once it logged that it is connected. */
export async function startGateway(options: GatewayProcessOptions, readyMs = 30_000): Promise<RunningProcess> {
  const gateway = spawnGatewayProcess(options);
  try {
    await gateway.waitFor(/ connected /, readyMs);
  } catch (error) {
    await gateway.stop("SIGKILL");
    throw error;
  }
  return gateway;
}

/** Starts `tether gateway` without waiting for it to connect. */
export function spawnGatewayProcess(options: GatewayProcessOptions): RunningProcess {
  const entry = options.entry ?? (options.bundle ? `${ROOT}dist/tether-gateway.mjs` : `${ROOT}src/cli/main.ts`);
  const args = [entry, "gateway", "--edge", options.edge];
  if (options.tunnel) args.push("--tunnel", options.tunnel);
  for (const server of options.servers) args.push("--server", server);
  args.push(...(options.args ?? []));
  return spawnProcess("gateway", NODE, args, {
    // The token goes in the environment, as the README advises: a command line is visible to
    // every user of the machine (ps, /proc/PID/cmdline).
    env: { TETHER_EDGE: "", TETHER_TOKEN: options.token, TETHER_TUNNEL: "", ...options.env },
    cwd: options.cwd,
  });
}

/** A `--server` TARGET that runs server-everything over stdio under the project's Node. */
export const EVERYTHING_STDIO = `stdio:${NODE} ${EVERYTHING} stdio`;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface HttpMcpServer {
  /** The MCP endpoint, http://127.0.0.1:PORT/mcp. */
  url: string;
  port: number;
  process: RunningProcess;
}

/** Starts @modelcontextprotocol/server-everything in Streamable HTTP mode on a free 127.0.0.1 port. */
export async function startEverythingHttp(): Promise<HttpMcpServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = spawnProcess(
      "server-everything",
      NODE,
      ["--import", `${ROOT}test/helpers/loopback-listen.ts`, EVERYTHING, "streamableHttp"],
      { env: { PORT: String(port) } },
    );
    try {
      await proc.waitFor(/listening on port/, 30_000);
      return { url: `http://127.0.0.1:${port}/mcp`, port, process: proc };
    } catch (error) {
      await proc.stop("SIGKILL");
      // Someone took the port between our probe and the server's listen: try another.
      if (attempt < 2 && /already in use/.test(proc.output())) continue;
      throw error;
    }
  }
}

/** PIDs of every live descendant of `root` (Linux /proc). */
export function descendants(root: number): number[] {
  return descendantsOf(root);
}

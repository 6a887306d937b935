/**
 * Builds a GatewayConfig from the three places it can come from, flags first, then environment
 * variables (TETHER_EDGE, TETHER_TUNNEL, TETHER_TOKEN), then the JSON config file. Every problem
 * is reported at once, each naming where the bad value came from (a flag, a variable, a key in
 * the file); token values are never echoed.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseToken } from "../auth/tokens.ts";
import { ExecutorAnnouncementSchema } from "../protocol/executor-api.ts";
import { MAX_EXECUTORS, ServerNameSchema } from "../protocol/messages.ts";
import type * as z from "../protocol/zod-mini.ts";
import { formatIssues } from "../validation/format-issues.ts";
import {
  ConfigFileSchema,
  DEFAULT_DRAIN_TIMEOUT_MS,
  EdgeUrlSchema,
  type GatewayConfig,
  isCleartextRemote,
  MAX_DRAIN_TIMEOUT_MS,
  type NamedServerConfig,
  parseExecutorConfig,
  parseServerConfig,
  TunnelNameSchema,
  targetToServer,
} from "./config.ts";
import type { NamedExecutorConfig } from "./executor/executor-config.ts";

/** The gateway command's flags, as strings, before any checking. */
export interface GatewayFlags {
  edge?: string;
  tunnel?: string;
  token?: string;
  config?: string;
  server?: string[];
  header?: string[];
  allowPath?: string[];
  drainTimeoutMs?: string;
  /** Allows an unencrypted (http:// or ws://) edge that is not on this machine. */
  insecure?: boolean;
  /** NAME=DIR, one per executor. */
  executor?: string[];
  /** Allows executors while the gateway runs as root. */
  allowRoot?: boolean;
}

export class GatewayConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? (problems[0] as string) : `invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "GatewayConfigError";
    this.problems = problems;
  }
}

interface Sourced<T> {
  value: T;
  /** Where the value came from, for error messages: "--edge", "TETHER_EDGE", '"edge" in gw.json'. */
  from: string;
}

export function loadGatewayConfig(
  flags: GatewayFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): GatewayConfig {
  const problems: string[] = [];
  const file = flags.config ? readConfigFile(flags.config, readFile, problems) : null;
  const inFile = (key: string) => `"${key}" in ${flags.config}`;
  const pick = (flag: string, variable: string, key: "edge" | "tunnel" | "token"): Sourced<string> | null => {
    const value = flags[key];
    if (value !== undefined) return { value, from: flag };
    const fromEnv = env[variable];
    if (fromEnv) return { value: fromEnv, from: variable };
    const fromFile = file?.[key];
    return fromFile === undefined ? null : { value: fromFile, from: inFile(key) };
  };

  const edge = pick("--edge", "TETHER_EDGE", "edge");
  const insecure = flags.insecure === true || file?.insecure === true;
  if (!edge) problems.push('missing --edge URL (or TETHER_EDGE, or "edge" in the config file)');
  else if (check(EdgeUrlSchema, edge, problems) && !insecure && isCleartextRemote(edge.value)) {
    problems.push(
      `${edge.from} "${edge.value}": the gateway token would cross the network unencrypted; use https:// (or wss://), or pass --insecure to allow it on a network you trust`,
    );
  }

  const token = pick("--token", "TETHER_TOKEN", "token");
  const parsedToken = token ? parseToken(token.value) : null;
  if (!token)
    problems.push('missing --token (or TETHER_TOKEN, or "token" in the config file): the tunnel\'s gateway token');
  else if (!parsedToken) problems.push(`${token.from}: not a Tether token (expected tth.gw.TUNNEL.SECRET)`);
  else if (parsedToken.kind !== "gw") {
    problems.push(
      `${token.from}: this is a "${parsedToken.kind}" token; a gateway needs its tunnel's gateway token (tth.gw.…)`,
    );
  }

  // The token names its tunnel, so --tunnel may be left out.
  const tunnel =
    pick("--tunnel", "TETHER_TUNNEL", "tunnel") ??
    (parsedToken ? { value: parsedToken.scope, from: "the token" } : null);
  if (!tunnel) {
    // With a malformed token, the token's own problem says it all.
    if (!token || parsedToken)
      problems.push('missing --tunnel NAME (or TETHER_TUNNEL, or "tunnel" in the config file)');
  } else if (check(TunnelNameSchema, tunnel, problems) && parsedToken && parsedToken.scope !== tunnel.value) {
    problems.push(
      `${token?.from}: the token belongs to tunnel "${parsedToken.scope}", not "${tunnel.value}" (${tunnel.from})`,
    );
  }

  const servers = collectServers(flags, file, inFile, problems);
  const executors = collectExecutors(flags, file, inFile, problems);
  const noneGiven =
    !flags.server?.length &&
    !flags.executor?.length &&
    Object.keys(file?.servers ?? {}).length === 0 &&
    Object.keys(file?.executors ?? {}).length === 0;
  if (noneGiven && (flags.config === undefined || file !== null)) {
    problems.push(
      'nothing to serve: add --server NAME=TARGET or --executor NAME=DIR (or "servers" or "executors" in the config file)',
    );
  }

  let drainTimeoutMs = file?.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  if (flags.drainTimeoutMs !== undefined) {
    drainTimeoutMs = Number(flags.drainTimeoutMs);
    if (!/^\d+$/.test(flags.drainTimeoutMs) || drainTimeoutMs > MAX_DRAIN_TIMEOUT_MS) {
      problems.push(
        `--drain-timeout-ms: expected milliseconds between 0 and ${MAX_DRAIN_TIMEOUT_MS}, got "${flags.drainTimeoutMs}"`,
      );
    }
  }

  if (problems.length > 0 || !edge || !tunnel || !token) throw new GatewayConfigError(problems);
  return {
    edge: edge.value,
    tunnel: tunnel.value,
    token: token.value,
    servers,
    executors,
    allowRoot: flags.allowRoot === true || file?.allowRoot === true,
    drainTimeoutMs,
    insecure,
  };
}

function readConfigFile(path: string, readFile: (path: string) => string, problems: string[]) {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    problems.push(`--config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    problems.push(`--config ${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    return null;
  }
  const result = ConfigFileSchema.safeParse(json, { reportInput: true });
  if (!result.success) {
    problems.push(`--config ${path}: ${formatIssues(result.error.issues)}`);
    return null;
  }
  return result.data;
}

/** Servers from the file, then --server flags (a flag replaces a file entry of the same name), then --header and --allow-path. */
function collectServers(
  flags: GatewayFlags,
  file: ReturnType<typeof readConfigFile>,
  inFile: (key: string) => string,
  problems: string[],
): NamedServerConfig[] {
  const raw = new Map<string, Sourced<Record<string, unknown>>>();
  for (const [name, server] of Object.entries(file?.servers ?? {})) {
    raw.set(name, { value: server, from: inFile(`servers.${name}`) });
  }
  for (const spec of flags.server ?? []) {
    const [name, target] = splitOnce(spec, "=");
    const from = `--server ${name || spec}`;
    if (!name || target === undefined) {
      problems.push(
        `--server "${spec}": expected NAME=TARGET, e.g. docs=http://10.1.2.3:8080/mcp or fs=stdio:mcp-fs /data`,
      );
      continue;
    }
    try {
      raw.set(name, { value: targetToServer(target), from });
    } catch (error) {
      problems.push(`${from}: ${(error as Error).message}`);
    }
  }
  const extras = [
    ...(flags.header ?? []).map((spec) => ({ flag: "--header", spec })),
    ...(flags.allowPath ?? []).map((spec) => ({ flag: "--allow-path", spec })),
  ];
  for (const { flag, spec } of extras) {
    const [name, rest] = splitOnce(spec, ":");
    const server = raw.get(name);
    const example =
      flag === "--header" ? "docs:Authorization=Bearer abc" : "docs:/.well-known/oauth-protected-resource";
    if (!name || rest === undefined)
      problems.push(`${flag} "${spec}": expected NAME:${flag === "--header" ? "Key=Value" : "PATH"}, e.g. ${example}`);
    else if (!server) problems.push(`${flag} ${name}:…: no server named "${name}" (add --server ${name}=TARGET)`);
    else if (!("url" in server.value))
      problems.push(`${flag} ${name}:…: only HTTP servers take ${flag === "--header" ? "headers" : "extra paths"}`);
    else if (flag === "--allow-path") {
      server.value = { ...server.value, allowPaths: [...asArray(server.value.allowPaths), rest] };
    } else {
      const [key, value] = splitOnce(rest, "=");
      if (!key || value === undefined) problems.push(`--header ${name}:…: expected NAME:Key=Value, e.g. ${example}`);
      else server.value = { ...server.value, headers: { ...asRecord(server.value.headers), [key]: value } };
    }
  }
  const servers: NamedServerConfig[] = [];
  for (const [name, { value, from }] of raw) {
    const nameCheck = ServerNameSchema.safeParse(name);
    if (!nameCheck.success) {
      problems.push(`${from}: server name "${name}": ${nameCheck.error.issues[0]?.message}`);
      continue;
    }
    const server = parseServerConfig(value);
    if ("problem" in server) problems.push(`${from}: ${server.problem}`);
    else servers.push({ name, server });
  }
  return servers;
}

/**
 * Executors from the file, then --executor flags. A flag sets the directory of the file's entry of
 * that name and keeps its other settings: `--executor main=/elsewhere` must not quietly drop the
 * file's `"isolate": "bwrap"`. Directories are made absolute here, so logs show where work lands.
 */
function collectExecutors(
  flags: GatewayFlags,
  file: ReturnType<typeof readConfigFile>,
  inFile: (key: string) => string,
  problems: string[],
): NamedExecutorConfig[] {
  const raw = new Map<string, Sourced<Record<string, unknown>>>();
  for (const [name, executor] of Object.entries(file?.executors ?? {})) {
    raw.set(name, { value: executor, from: inFile(`executors.${name}`) });
  }
  const flagged = new Set<string>();
  for (const spec of flags.executor ?? []) {
    const [name, dir] = splitOnce(spec, "=");
    if (!name || !dir) {
      problems.push(`--executor "${spec}": expected NAME=DIR, e.g. main=/var/lib/tether/main`);
      continue;
    }
    if (flagged.has(name)) {
      problems.push(`--executor ${name}: given twice; each executor needs a name of its own`);
      continue;
    }
    flagged.add(name);
    raw.set(name, { value: { ...raw.get(name)?.value, dir }, from: `--executor ${name}` });
  }
  const executors: NamedExecutorConfig[] = [];
  const byDir = new Map<string, string>();
  for (const [name, { value, from }] of raw) {
    const nameCheck = ExecutorAnnouncementSchema.shape.name.safeParse(name);
    if (!nameCheck.success) {
      problems.push(`${from}: executor name "${name}": ${nameCheck.error.issues[0]?.message}`);
      continue;
    }
    const executor = parseExecutorConfig(value);
    if ("problem" in executor) {
      problems.push(`${from}: ${executor.problem}`);
      continue;
    }
    const dir = resolve(executor.dir);
    const sharing = byDir.get(dir);
    if (sharing !== undefined) {
      problems.push(`${from}: directory ${dir} is also executor "${sharing}"'s; each executor needs its own`);
      continue;
    }
    byDir.set(dir, name);
    executors.push({ name, executor: { ...executor, dir } });
  }
  if (executors.length > MAX_EXECUTORS) {
    problems.push(`${executors.length} executors: a gateway runs at most ${MAX_EXECUTORS}`);
  }
  return executors;
}

/** Checks a value that is not secret, quoting it in the problem. */
function check(schema: z.ZodMiniType<string>, sourced: Sourced<string>, problems: string[]): boolean {
  const result = schema.safeParse(sourced.value);
  if (!result.success) {
    problems.push(`${sourced.from} "${sourced.value}": ${result.error.issues[0]?.message ?? "invalid"}`);
  }
  return result.success;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

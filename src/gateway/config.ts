/**
 * What a gateway serves and where it connects, as validated values. Schemas first; the raw forms
 * (flags, environment, config file) are merged and checked in ./load-config.ts.
 *
 * A server is either an MCP Streamable HTTP endpoint (`url`, optional `headers` the gateway adds
 * to every upstream request, optional `allowPaths` below the endpoint) or a stdio command
 * (`command`, `args`, `env`, `cwd`, `idleTimeoutMs`, `maxChildren`, see ./stdio/stdio-config.ts).
 * An executor is a directory whose sandboxes run tool calls on this machine (see
 * ./executor/executor-config.ts).
 */
import { isUnsafePath } from "../protocol/allow-paths.ts";
import * as z from "../protocol/zod-mini.ts";
import { formatIssues } from "../validation/format-issues.ts";
import { type ExecutorConfig, ExecutorConfigSchema, type NamedExecutorConfig } from "./executor/executor-config.ts";
import { StdioServerConfigSchema } from "./stdio/stdio-config.ts";

export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
export const MAX_DRAIN_TIMEOUT_MS = 600_000;

/** Tunnel names as the edge accepts them (workers/routes/tunnels.ts). */
export const TunnelNameSchema = z
  .string()
  .check(
    z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "tunnel names are [a-z0-9-], at most 63 characters, not starting with -"),
  );

export const EdgeUrlSchema = z.string().check(
  z.refine((value) => URL.canParse(value) && /^(https?|wss?):$/.test(new URL(value).protocol), {
    message: "must be an http(s) or ws(s) URL, e.g. https://tether.example.com",
  }),
);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HeaderValueSchema = z.string().check(z.regex(/^[^\r\n\0]*$/, "header values cannot contain line breaks"));

/** "/x" allows that path below the endpoint, "/x/*" everything under /x/ (see src/protocol/allow-paths.ts). */
export const AllowPathSchema = z.string().check(
  z.refine(
    (entry) => {
      const path = entry.startsWith("/") ? entry : `/${entry}`;
      return path !== "/" && !isUnsafePath(path.endsWith("/*") ? path.slice(0, -1) : path);
    },
    { message: 'must be a path such as "/.well-known/oauth-protected-resource" or "/files/*"' },
  ),
);

export const HttpServerConfigSchema = z.strictObject({
  url: z.string().check(
    z.refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      message: "must be an http(s) URL, e.g. http://10.1.2.3:8080/mcp",
    }),
  ),
  headers: z._default(
    z.record(z.string(), HeaderValueSchema).check(
      z.superRefine((headers, ctx) => {
        for (const name of Object.keys(headers)) {
          if (!HEADER_NAME.test(name))
            ctx.addIssue({ code: "custom", path: [name], message: "not a valid HTTP header name" });
        }
      }),
    ),
    {},
  ),
  allowPaths: z._default(z.array(AllowPathSchema), []),
});

export type HttpServerConfig = { kind: "http" } & z.output<typeof HttpServerConfigSchema>;
export type StdioServerConfig = { kind: "stdio" } & z.output<typeof StdioServerConfigSchema>;
export type ServerConfig = HttpServerConfig | StdioServerConfig;

/** Validates one server: `url` makes it HTTP, `command` stdio. Returns the problem as one line. */
export function parseServerConfig(raw: Record<string, unknown>): ServerConfig | { problem: string } {
  if ("url" in raw === "command" in raw) return { problem: 'needs either "url" (HTTP) or "command" (stdio)' };
  if ("url" in raw) {
    const result = HttpServerConfigSchema.safeParse(raw, { reportInput: true });
    return result.success ? { kind: "http", ...result.data } : { problem: formatIssues(result.error.issues) };
  }
  const result = StdioServerConfigSchema.safeParse(raw, { reportInput: true });
  return result.success ? { kind: "stdio", ...result.data } : { problem: formatIssues(result.error.issues) };
}

/**
 * Validates one executor. `network` is refused without isolation: the sandboxes' processes then
 * share this machine's network whatever it says, and a setting that does nothing must not look
 * like it does.
 */
export function parseExecutorConfig(raw: Record<string, unknown>): ExecutorConfig | { problem: string } {
  const result = ExecutorConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) return { problem: formatIssues(result.error.issues) };
  if ("network" in raw && result.data.isolate === "none") {
    return {
      problem:
        'network: only applies with "isolate": "bwrap"; without isolation sandboxes use this machine\'s network as the gateway does',
    };
  }
  return result.data;
}

export interface NamedServerConfig {
  name: string;
  server: ServerConfig;
}

export interface GatewayConfig {
  /** The edge's base URL as given (http(s) or ws(s)). */
  edge: string;
  tunnel: string;
  token: string;
  servers: NamedServerConfig[];
  /** Sandboxes whose tool calls run on this machine; absent means none. */
  executors?: NamedExecutorConfig[];
  /** Executors may run while the gateway runs as root (their sandboxes' processes then run as root). */
  allowRoot?: boolean;
  /** How long SIGTERM/SIGINT waits for calls in flight before resetting them. */
  drainTimeoutMs: number;
  /** An unencrypted edge on another machine was allowed explicitly (--insecure). */
  insecure?: boolean;
}

/** The JSON config file (`--config FILE`); servers and executors are checked one by one to name the bad one. */
export const ConfigFileSchema = z.strictObject({
  edge: z.optional(z.string()),
  tunnel: z.optional(z.string()),
  token: z.optional(z.string()),
  drainTimeoutMs: z.optional(z.int().check(z.minimum(0), z.maximum(MAX_DRAIN_TIMEOUT_MS))),
  insecure: z.optional(z.boolean()),
  allowRoot: z.optional(z.boolean()),
  servers: z._default(z.record(z.string(), z.record(z.string(), z.unknown())), {}),
  executors: z._default(z.record(z.string(), z.record(z.string(), z.unknown())), {}),
});

/** The WebSocket URL a gateway dials: `{edge}/t/{tunnel}/connect`, with http(s) mapped to ws(s). */
export function connectUrl(edge: string, tunnel: string): string {
  const url = new URL(edge);
  url.protocol = url.protocol.replace(/^http/, "ws");
  url.pathname = `${url.pathname.replace(/\/$/, "")}/t/${encodeURIComponent(tunnel)}/connect`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/**
 * An edge reached without TLS (http:// or ws://) on another machine: the gateway token would
 * cross the network in the clear, so it needs --insecure. This machine (loopback) needs nothing.
 */
export function isCleartextRemote(edge: string): boolean {
  const url = new URL(connectUrl(edge, "x"));
  return url.protocol === "ws:" && !isLoopbackHost(url.hostname);
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The raw server object a `--server NAME=TARGET` TARGET stands for: an http(s) URL, or
 * `stdio:COMMAND ARGS...` split like a shell would (quotes and backslashes, no expansion).
 */
export function targetToServer(target: string): Record<string, unknown> {
  if (target.startsWith("stdio:")) {
    const [command, ...args] = splitCommandLine(target.slice("stdio:".length));
    if (!command) throw new Error("stdio: needs a command, e.g. stdio:node server.js");
    return { command, args };
  }
  return { url: target };
}

/** Splits a command line into words: whitespace separates; '…' is literal; "…" and \ escape. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (char === "\\" && i + 1 < line.length && (quote === null || /["\\$`]/.test(line[i + 1] as string))) {
      word = (word ?? "") + line[++i];
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (word !== null) words.push(word);
  return words;
}

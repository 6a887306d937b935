/**
 * The executor's wire API: how the edge's Sandbox object reaches a sandbox that lives on a
 * gateway's executor (a real machine inside the customer's network). It rides the tunnel's
 * ordinary streams: the executor is one more upstream of its gateway, under a reserved name
 * (`executor:NAME`, which no configured server can take since server names have no colon), and
 * answers plain HTTP requests relayed to it:
 *
 *   POST   /sandboxes/ID/tools/TOOL   body ToolCallRequest → 200 NDJSON of ExecutorToolLine,
 *                                     output lines while the tool runs, then one outcome line.
 *                                     Cancelling the request (stream reset) stops the tool.
 *   PUT    /sandboxes/ID/files/PATH   body: the file's bytes, streamed; `tether-file-mode` header
 *                                     (octal) optional → 200 ExecutorPutResult
 *   GET    /sandboxes/ID/files/PATH   → 200 the file's bytes, streamed (content-length set)
 *   DELETE /sandboxes/ID/files/PATH   → 204
 *   GET    /sandboxes/ID/export       → 200 a tar of the workspace, streamed
 *   GET    /sandboxes/ID              → 200 ExecutorSandboxInfo
 *   DELETE /sandboxes/ID              → 204: shell and its processes stopped, workspace removed
 *   GET    /files/…  and others       → 404
 *
 * PATH is absolute from the sandbox's own root, as at the edge: the workspace is `/workspace`, so
 * `files/workspace/a.txt` is the workspace's `a.txt`; anything outside `/workspace` is refused.
 * Failures answer ExecutorErrorBody with the status a TetherError of that code maps to.
 *
 * Shared by the edge and the gateway; zod/mini keeps the gateway small.
 */
import * as z from "./zod-mini.ts";

/** Upstream names of executors in Open frames: `executor:NAME` (NAME is a server name). */
export const EXECUTOR_UPSTREAM_PREFIX = "executor:";

export function executorUpstreamName(executor: string): string {
  return `${EXECUTOR_UPSTREAM_PREFIX}${executor}`;
}

/** The executor's name in an upstream name, or null when the name is a configured server's. */
export function executorNameOf(upstream: string): string | null {
  return upstream.startsWith(EXECUTOR_UPSTREAM_PREFIX) ? upstream.slice(EXECUTOR_UPSTREAM_PREFIX.length) : null;
}

export const ExecutorIsolationSchema = z.enum(["none", "bwrap"]);
export type ExecutorIsolation = z.infer<typeof ExecutorIsolationSchema>;

/**
 * What a gateway announces of each executor in Hello. `instance` is stable across gateway
 * restarts (kept in the executor's directory): the workspaces live on that machine, so a sandbox
 * stays with the instance that holds its workspace.
 */
export const ExecutorAnnouncementSchema = z.object({
  name: z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "executor names are [a-z0-9_-], at most 63")),
  instance: z.string().check(z.minLength(1), z.maxLength(128)),
  isolate: ExecutorIsolationSchema,
  network: z.enum(["off", "on"]),
  maxSessions: z.int().check(z.positive()),
});
export type ExecutorAnnouncement = z.infer<typeof ExecutorAnnouncementSchema>;

/** Request header naming the executor instance the edge expects; another instance answers 409. */
export const EXECUTOR_INSTANCE_HEADER = "tether-executor-instance";
/** Request header with a staged file's mode bits in octal (e.g. "755"). */
export const FILE_MODE_HEADER = "tether-file-mode";

export const ToolCallRequestSchema = z.object({
  input: z.unknown(),
  /** Exported variables a fresh shell of this sandbox starts with (the sandbox's create-time env). */
  env: z._default(z.record(z.string(), z.string()), {}),
});
export type ToolCallRequest = z.infer<typeof ToolCallRequestSchema>;

/** A tool's outcome as src/sandbox/tools/tool.ts ToolOutcome, across the wire. */
export const ExecutorOutcomeSchema = z.object({
  text: z.string(),
  isError: z.optional(z.boolean()),
  errorKind: z.optional(z.string()),
  exitCode: z.optional(z.int()),
  truncated: z.optional(z.boolean()),
});

/** One NDJSON line of a tool call's answer. */
export const ExecutorToolLineSchema = z.union([
  z.object({ type: z.literal("output"), stream: z.enum(["stdout", "stderr"]), text: z.string() }),
  z.object({ type: z.literal("outcome"), outcome: ExecutorOutcomeSchema }),
]);
export type ExecutorToolLine = z.infer<typeof ExecutorToolLineSchema>;

export const ExecutorPutResultSchema = z.object({ path: z.string(), bytes: z.int(), created: z.boolean() });
export type ExecutorPutResult = z.infer<typeof ExecutorPutResultSchema>;

export const ExecutorSandboxInfoSchema = z.object({
  /** Whether the workspace directory exists yet (it is created on first use). */
  exists: z.boolean(),
  /** Bytes of regular files under the workspace (du-like, apparent sizes). */
  workspaceBytes: z.int(),
  instance: z.string(),
});
export type ExecutorSandboxInfo = z.infer<typeof ExecutorSandboxInfoSchema>;

export const ExecutorErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ExecutorErrorBody = z.infer<typeof ExecutorErrorBodySchema>;

/** The paths above, built one way on both sides. */
export const executorPaths = {
  sandbox: (id: string) => `/sandboxes/${encodeURIComponent(id)}`,
  tool: (id: string, tool: string) => `/sandboxes/${encodeURIComponent(id)}/tools/${encodeURIComponent(tool)}`,
  /** `path` is absolute (starts with "/"); its segments are kept, each percent-encoded. */
  file: (id: string, path: string) =>
    `/sandboxes/${encodeURIComponent(id)}/files${path.split("/").map(encodeURIComponent).join("/")}`,
  export: (id: string) => `/sandboxes/${encodeURIComponent(id)}/export`,
};

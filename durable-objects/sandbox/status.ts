import type { ExecutorSandboxInfo } from "../../src/protocol/executor-api.ts";
import type { SandboxMeta } from "./meta-store.ts";
import type { SandboxBackend } from "./options.ts";
import type { SandboxRuntime } from "./runtime.ts";
import type { SandboxTraceRow } from "./trace.ts";

/**
 * What a sandbox reports about itself, in the HTTP API's snake_case. The shell state is shown by
 * names only: variable values may hold secrets the orchestrator passed in `env`. The figures of
 * the edge's filesystem are null for a sandbox on a gateway's executor (its files are not here:
 * the admin view asks the executor, see `gateway` below).
 */
export interface SandboxSummary {
  id: string;
  backend: SandboxBackend;
  created_at: string;
  last_activity: string;
  expires_at: string;
  ttl_seconds: number;
  /** File contents and symlink targets. */
  size_bytes: number | null;
  /** Everything counted toward the quota: contents, entries (rows and names), shell state, trace. */
  stored_bytes: number | null;
  file_count: number | null;
  quota_bytes: number | null;
  network: { allow: string[] };
}

/** A gateway sandbox as operators see it: who serves it and how big its workspace is. */
export interface GatewayStatus {
  /** The gateway that last served it and the executor instance holding its workspace (null before first contact). */
  gateway_id: string | null;
  instance: string | null;
  /** Whether a gateway serving that instance (or, unpinned, the executor) is connected now. */
  connected: boolean;
  /** From the executor (GET /sandboxes/ID), null with the reason when it could not be asked. */
  workspace_bytes: number | null;
  workspace_error: string | null;
}

export interface SandboxDetails extends SandboxSummary {
  /** Tool calls running or waiting in the queue. */
  busy: number;
  /** The edge shell's state; null for a gateway sandbox (its shell runs on the executor's machine). */
  shell: { cwd: string; variables: string[]; functions: string[] } | null;
  /** Only for a gateway sandbox. */
  gateway?: GatewayStatus;
  /** Newest first, at most TRACE_RETENTION entries. */
  trace: Array<{
    at: string;
    tool_use_id: string;
    tool: string;
    duration_ms: number;
    bytes: number;
    error: string | null;
    /** Who called (`admin`, `api:<token id>`, `sandbox-token:<id>`, `session:<id>`). */
    caller: string | null;
    /** The call's input (JSON) and the start of its result, redacted; null when payloads are off. */
    input: string | null;
    result: string | null;
  }>;
}

/** `runtime` is the edge's; null for a gateway sandbox. */
export function sandboxSummary(meta: SandboxMeta, runtime: SandboxRuntime | null): SandboxSummary {
  const usage = runtime?.fs.usage();
  return {
    id: meta.id,
    backend: meta.backend,
    created_at: iso(meta.createdAt),
    last_activity: iso(meta.lastActivity),
    expires_at: iso(meta.lastActivity + meta.ttlSeconds * 1000),
    ttl_seconds: meta.ttlSeconds,
    size_bytes: usage?.bytes ?? null,
    stored_bytes: runtime?.fs.storedBytes() ?? null,
    file_count: usage?.files ?? null,
    quota_bytes: runtime?.fs.quotaBytes ?? null,
    network: { allow: meta.networkAllow },
  };
}

export function sandboxDetails(
  meta: SandboxMeta,
  runtime: SandboxRuntime | null,
  trace: SandboxTraceRow[],
  busy: number,
): SandboxDetails {
  const shell = runtime?.bash.describe();
  return {
    ...sandboxSummary(meta, runtime),
    busy,
    shell: shell ? { cwd: shell.cwd, variables: shell.variableNames, functions: shell.functionNames } : null,
    trace: trace.map((entry) => ({
      at: iso(entry.at),
      tool_use_id: entry.toolUseId,
      tool: entry.tool,
      duration_ms: entry.durationMs,
      bytes: entry.bytes,
      error: entry.error,
      caller: entry.caller,
      input: entry.input,
      result: entry.result,
    })),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The gateway part of a gateway sandbox's details. */
export function gatewayStatus(
  meta: SandboxMeta,
  connected: boolean,
  workspace: { info: ExecutorSandboxInfo | null; reason: string | null },
): GatewayStatus {
  return {
    gateway_id: meta.executor?.gatewayId ?? null,
    instance: meta.executor?.instance ?? null,
    connected,
    workspace_bytes: workspace.info?.workspaceBytes ?? null,
    workspace_error: workspace.reason,
  };
}

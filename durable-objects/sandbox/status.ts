import type { SandboxMeta } from "./meta-store.ts";
import type { SandboxRuntime } from "./runtime.ts";
import type { TraceEntry } from "./trace.ts";

/**
 * What a sandbox reports about itself, in the HTTP API's snake_case. The shell state is shown by
 * names only: variable values may hold secrets the orchestrator passed in `env`.
 */
export interface SandboxSummary {
  id: string;
  created_at: string;
  last_activity: string;
  expires_at: string;
  ttl_seconds: number;
  /** File contents and symlink targets. */
  size_bytes: number;
  /** Everything counted toward the quota: contents, entries (rows and names), shell state, trace. */
  stored_bytes: number;
  file_count: number;
  quota_bytes: number;
  network: { allow: string[] };
}

export interface SandboxDetails extends SandboxSummary {
  /** Tool calls running or waiting in the queue. */
  busy: number;
  shell: { cwd: string; variables: string[]; functions: string[] };
  /** Newest first, at most TRACE_RETENTION entries. */
  trace: Array<{
    at: string;
    tool_use_id: string;
    tool: string;
    duration_ms: number;
    bytes: number;
    error: string | null;
  }>;
}

export function sandboxSummary(meta: SandboxMeta, runtime: SandboxRuntime): SandboxSummary {
  const usage = runtime.fs.usage();
  return {
    id: meta.id,
    created_at: iso(meta.createdAt),
    last_activity: iso(meta.lastActivity),
    expires_at: iso(meta.lastActivity + meta.ttlSeconds * 1000),
    ttl_seconds: meta.ttlSeconds,
    size_bytes: usage.bytes,
    stored_bytes: runtime.fs.storedBytes(),
    file_count: usage.files,
    quota_bytes: runtime.fs.quotaBytes,
    network: { allow: meta.networkAllow },
  };
}

export function sandboxDetails(
  meta: SandboxMeta,
  runtime: SandboxRuntime,
  trace: TraceEntry[],
  busy: number,
): SandboxDetails {
  const shell = runtime.bash.describe();
  return {
    ...sandboxSummary(meta, runtime),
    busy,
    shell: { cwd: shell.cwd, variables: shell.variableNames, functions: shell.functionNames },
    trace: trace.map((entry) => ({
      at: iso(entry.at),
      tool_use_id: entry.toolUseId,
      tool: entry.tool,
      duration_ms: entry.durationMs,
      bytes: entry.bytes,
      error: entry.error,
    })),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

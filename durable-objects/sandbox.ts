import { DurableObject } from "cloudflare:workers";
import type { SandboxMetrics } from "../src/audit/call-metrics.ts";
import { PRUNE_EVERY_MS, PRUNE_SOON_MS } from "../src/audit/retention.ts";
import type { Page, TraceQuery } from "../src/audit/trace-query.ts";
import { unauthorized } from "../src/auth/bearer.ts";
import { hashToken, newToken } from "../src/auth/tokens.ts";
import { type RpcResult, settle } from "../src/errors/rpc-result.ts";
import { isTetherError, TetherError } from "../src/errors/tether-error.ts";
import type { ToolsetCallOutcome } from "../src/managed-agents/toolset/run-toolset-call.ts";
import type { EventStreamOptions } from "../src/sandbox/tool-calls/event-stream.ts";
import type { ToolCallEvent } from "../src/sandbox/tool-calls/events.ts";
import { type ToolCallsFormat, toolCallsResponse } from "../src/sandbox/tool-calls/respond.ts";
import { runToolCalls } from "../src/sandbox/tool-calls/run-tool-calls.ts";
import type { ToolUseBlock } from "../src/sandbox/tool-calls/tool-use-block.ts";
import { mcpTools } from "../src/sandbox/tools/registry.ts";
import { alarmNoLaterThan } from "../src/storage/alarm.ts";
import { WriteBehind } from "../src/storage/write-behind.ts";
import type { Env } from "../workers/env.ts";
import { SandboxBackends } from "./sandbox/backends.ts";
import { type Caller, callerLabel, noSuchSandbox, permits } from "./sandbox/caller.ts";
import { EventChannel } from "./sandbox/event-channel.ts";
import { SandboxJobs } from "./sandbox/jobs.ts";
import { handleMcpRequest } from "./sandbox/mcp-face.ts";
import { MetaStore, type SandboxMeta, type SandboxTokenInfo, sandboxTokenId } from "./sandbox/meta-store.ts";
import type { SandboxSettings } from "./sandbox/options.ts";
import { RegistryLink } from "./sandbox/registry-link.ts";
import { asHttpError, type PutResult } from "./sandbox/staging.ts";
import {
  gatewayStatus,
  type SandboxDetails,
  type SandboxSummary,
  sandboxDetails,
  sandboxSummary,
} from "./sandbox/status.ts";
import { listSandboxFiles, ToolsetCalls } from "./sandbox/toolset-calls.ts";
import { DEFAULT_SANDBOX_AUDIT, type SandboxTraceRow, TraceLog, traceEntryOf } from "./sandbox/trace.ts";
import { sandboxTraceMetrics } from "./sandbox/trace-metrics.ts";

export interface CreateOutcome {
  created: boolean;
  /** A new sandbox token (only its hash is kept). */
  token: string;
  /** Its public id, to list and revoke it by (`DELETE /v1/sandboxes/ID/tokens/TOKEN_ID`). */
  tokenId: string;
  ttlSeconds: number;
}

/**
 * One sandbox: a persistent filesystem, one bash session and run_code isolates, addressed by the
 * sandbox id. The edge calls it through the RPC methods below after resolving the caller's token.
 *
 * Backends: an edge sandbox's files and shell are this object's own (below). A gateway sandbox's
 * live on a gateway's executor (sandbox/executor-backend.ts): tool calls and files go there through
 * the tunnel's relay, while queue, trace, activity, tokens and expiry stay here; deleting it
 * deletes the executor's workspace too (best effort: an offline gateway's is recorded on the tunnel).
 *
 * Storage (this object's SQLite database, plus its alarm):
 *   sandbox_meta, sandbox_tokens   the sandbox's record and its live token hashes (sandbox/meta-store.ts)
 *   sandbox_trace, sandbox_audit   the audit trail of tool calls and its retention (sandbox/trace.ts)
 *   fs_nodes, fs_chunks, fs_meta, fs_pending   the filesystem (src/sandbox/fs/schema.ts)
 *   shell_state                    cwd, exported variables, functions (src/sandbox/bash/shell-state.ts)
 *   alarm                          when to check for expiry and prune the audit trail
 * Only what cannot outlive the object is in memory: the runtime built over that storage, the
 * tool calls running or waiting (`#jobs`: sandbox/jobs.ts), which an eviction ends anyway, and
 * bookkeeping written behind (`#writes`: the trace and last activity reach SQLite at most a second
 * after a call, so no call waits for them; an eviction loses at most that second of them).
 *
 * Lifecycle: `create` writes sandbox_meta (its presence is what "exists" means) and arms an alarm
 * for the TTL of inactivity. Every admitted call is activity. The alarm destroys a sandbox idle for
 * its TTL (re-arming itself otherwise); `destroy` and expiry delete all storage, the alarm, and
 * the Registry entry, after which every call answers 404 until the id is created again (the
 * Registry entry is added in the background: sandbox/registry-link.ts). After eviction nothing
 * that matters is lost: the runtime (filesystem, shell, tools) is rebuilt from storage on the next
 * call. Tool calls from every caller (HTTP, MCP, Managed Agents toolset) run one at a time through
 * `#jobs`' serial queue.
 */
export class Sandbox extends DurableObject<Env> {
  readonly #writes: WriteBehind;
  readonly #meta: MetaStore;
  readonly #trace: TraceLog;
  readonly #registry: RegistryLink;
  readonly #toolset: ToolsetCalls;
  readonly #jobs = new SandboxJobs(() => {
    if (this.#meta.load()) this.#meta.touch(Date.now());
  });
  readonly #backends: SandboxBackends;
  /**
   * How streamed tool-call answers are paced: the defaults (a heartbeat every 10 s) in production;
   * tests shorten the heartbeat interval of one instance through runInDurableObject.
   */
  streamOptions: EventStreamOptions = {};
  /**
   * Tests only (set through runInDurableObject): when the run reaches the block with this id (any
   * block for "*"), the object is reset as the platform resets it when a call exceeds the CPU limit, so tests can see
   * what the agent gets then. Never set in production (nothing outside tests can reach it).
   */
  cutOffAtForTest: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#writes = new WriteBehind(ctx.storage);
    this.#meta = new MetaStore(ctx.storage.sql, this.#writes);
    this.#trace = new TraceLog(ctx.storage.sql, this.#writes, {
      onBacklog: () => this.#pruneSoon(),
      // The agent may print an environment value: the trail never keeps one.
      secrets: () => Object.values(this.#meta.load()?.env ?? {}),
    });
    this.#registry = new RegistryLink(env);
    this.#toolset = new ToolsetCalls((entry) => this.#trace.record(entry));
    this.#backends = new SandboxBackends(ctx, env, this.#meta);
  }

  // ---- lifecycle ----

  /**
   * Creates the sandbox, or, when it exists and the caller may use it, mints one more token for it
   * (idempotent: initial env and files are applied on first creation only; earlier tokens stay
   * valid until revoked, see `listTokens` / `revokeToken`).
   */
  create(caller: Caller, settings: SandboxSettings): Promise<RpcResult<CreateOutcome>> {
    // Settled inside: an exception escaping blockConcurrencyWhile would reset the whole object.
    return this.ctx.blockConcurrencyWhile(() => settle(() => this.#create(caller, settings)));
  }

  describe(caller: Caller): Promise<RpcResult<SandboxSummary & { busy: number }>> {
    return settle(() => {
      const meta = this.#admit(caller);
      return { ...sandboxSummary(meta, this.#backends.edgeRuntime(meta)), busy: this.#jobs.pending };
    });
  }

  destroy(caller: Caller): Promise<RpcResult<void>> {
    return settle(async () => {
      this.#admit(caller);
      await this.#wipe();
    });
  }

  /** The sandbox's live tokens (ids and creation times). */
  listTokens(caller: Caller): Promise<RpcResult<SandboxTokenInfo[]>> {
    return settle(() => {
      this.#admit(caller);
      return this.#meta.listTokens();
    });
  }

  /**
   * Revokes one token: every later request with it gets 401. Any caller that may use the sandbox may
   * revoke (a token may revoke itself); an unknown id is 404.
   */
  revokeToken(caller: Caller, tokenId: string): Promise<RpcResult<void>> {
    return settle(() => {
      this.#admit(caller);
      if (!this.#meta.revokeToken(tokenId)) throw new TetherError("not_found", `no token ${tokenId} in this sandbox`);
    });
  }

  /**
   * Expiry: destroys a sandbox idle for its TTL; otherwise prunes the audit trail and re-arms for
   * when it would expire (or the next pruning, while it has a trail). Activity never moves the
   * alarm itself (that would be a write per call): the alarm re-arms lazily here.
   */
  override async alarm(): Promise<void> {
    const meta = this.#meta.reload();
    if (!meta) return;
    const now = Date.now();
    if (this.#jobs.pending > 0) this.#meta.touch(now); // a call still running is activity
    const expiresAt = meta.lastActivity + meta.ttlSeconds * 1000;
    if (expiresAt > now) {
      this.#writes.flush();
      this.#trace.prune(now);
      await this.ctx.storage.setAlarm(this.#trace.any() ? Math.min(expiresAt, now + PRUNE_EVERY_MS) : expiresAt);
      return;
    }
    await this.#wipe();
  }

  // ---- the audit trail (operators, the console; src/audit/trace-query.ts) ----

  /** One page of the tool-call trail, newest first, filtered (`session` matches the caller). */
  traces(query: TraceQuery): Promise<RpcResult<Page<SandboxTraceRow>>> {
    return settle(() => {
      if (!this.#meta.load()) throw noSuchSandbox();
      return this.#trace.page(query);
    });
  }

  // ---- files (staging: sandbox/staging.ts) ----

  putFile(
    caller: Caller,
    path: string,
    body: ReadableStream<Uint8Array>,
    length: number | null,
    /** File mode bits (e.g. 0o755 for a skill's script); the filesystem's default (0644) otherwise. */
    mode?: number,
  ): Promise<RpcResult<PutResult>> {
    return settle(async () => {
      const result = await this.#backends.putFile(this.#admit(caller), path, body, length, mode);
      this.#meta.touch(Date.now());
      return result;
    });
  }

  getFile(caller: Caller, path: string): Promise<RpcResult<Response>> {
    return settle(() => this.#backends.getFile(this.#admit(caller), path));
  }

  deleteFile(caller: Caller, path: string): Promise<RpcResult<void>> {
    return settle(() => this.#backends.deleteFile(this.#admit(caller), path));
  }

  exportTar(caller: Caller): Promise<RpcResult<ReadableStream<Uint8Array>>> {
    return settle(() => this.#backends.exportTar(this.#admit(caller)));
  }

  // ---- tool calls ----

  /** Runs the blocks in order (after any calls already queued) and answers in the asked format. */
  toolCalls(caller: Caller, blocks: ToolUseBlock[], format: ToolCallsFormat): Promise<RpcResult<Response>> {
    return settle(() =>
      toolCallsResponse(this.#run(this.#admit(caller), blocks, callerLabel(caller)), format, this.streamOptions),
    );
  }

  /** The MCP face: the same tools, through the same queue (see sandbox/mcp-face.ts). */
  mcp(caller: Caller, request: Request): Promise<RpcResult<Response>> {
    return settle(() => {
      const meta = this.#admit(caller);
      const who = callerLabel(caller);
      return handleMcpRequest(request, { tools: mcpTools, run: (blocks) => this.#run(meta, blocks, who) });
    });
  }

  /**
   * One `agent_toolset_20260401` call of a Managed Agents session, run here on the runtime in the
   * queue and traced (sandbox/toolset-calls.ts); `extraRoots` are memory-store mounts paths may
   * resolve into besides /workspace.
   */
  toolsetCall(
    caller: Caller,
    toolUse: { id: string; name: string; input: unknown },
    options?: { extraRoots?: string[]; session?: string | undefined },
  ): Promise<RpcResult<ToolsetCallOutcome>> {
    return settle(() => {
      const meta = this.#admit(caller);
      return this.#toolset.call(
        toolUse,
        options,
        (abort, job) => this.#jobs.run(abort, (current) => job(this.#backends.toolsetTarget(meta), current)),
        callerLabel(caller),
      );
    });
  }

  /** Aborts a toolset call by its tool-use id, queued or running; false when there is none. */
  abortToolCall(caller: Caller, id: string): Promise<RpcResult<boolean>> {
    return settle(() => {
      this.#admit(caller);
      return this.#toolset.abort(id);
    });
  }

  /** Regular files under `root` with sizes and mtimes ([] when missing; past 10,000 refused). */
  listFiles(caller: Caller, root: string): Promise<RpcResult<{ path: string; size: number; mtimeMs: number }[]>> {
    return settle(() => {
      const meta = this.#admit(caller);
      if (this.#backends.executor(meta)) {
        throw new TetherError("bad_request", "listFiles: not available for a sandbox on a gateway's executor");
      }
      return listSandboxFiles(this.#backends.runtime(meta).fs, root);
    });
  }

  /**
   * Starts a run in its turn of the queue and hands back its events as they come. The run goes on
   * when the consumer is slow; when the consumer goes away, blocks not yet started are skipped.
   */
  #run(meta: SandboxMeta, blocks: ToolUseBlock[], caller: string): EventChannel<ToolCallEvent> {
    const inputs = new Map(blocks.map((block) => [block.id, block.input] as const));
    const channel = new EventChannel<ToolCallEvent>();
    const abort = new AbortController();
    channel.onCancel = () => abort.abort();
    void this.#jobs
      .run(abort, async (current) => {
        if (abort.signal.aborted) return;
        for await (const event of runToolCalls(blocks, this.#backends.runTool(meta), { signal: abort.signal })) {
          const cut = this.cutOffAtForTest;
          if (event.event === "started" && (cut === "*" || event.tool_use_id === cut)) {
            this.ctx.abort("exceeded CPU time limit (simulated by a test)");
          }
          if (event.event === "result" && current()) {
            this.#trace.record(traceEntryOf(event, inputs.get(event.tool_use_id), caller));
          }
          channel.push(event);
        }
      })
      .catch((error: unknown) => channel.fail(error))
      .finally(() => channel.close());
    return channel;
  }

  // ---- operators (the edge checks the admin token; these do not count as activity) ----

  summary(): SandboxSummary | null {
    const meta = this.#meta.load();
    return meta ? sandboxSummary(meta, this.#backends.edgeRuntime(meta)) : null;
  }

  /** Call metrics over the rolling windows (src/audit/call-metrics.ts); null when there is no sandbox. */
  metrics(now?: number): SandboxMetrics | null {
    const meta = this.#meta.load();
    return meta ? sandboxTraceMetrics(this.ctx.storage.sql, this.#trace, meta.id, now ?? Date.now()) : null;
  }

  /** For a gateway sandbox also who serves it and its workspace's size (asked of the executor, briefly). */
  async inspect(): Promise<SandboxDetails | null> {
    const meta = this.#meta.load();
    if (!meta) return null;
    const details = sandboxDetails(meta, this.#backends.edgeRuntime(meta), this.#trace.recent(), this.#jobs.pending);
    const executor = this.#backends.executor(meta);
    if (!executor) return details;
    const [connected, workspace] = await Promise.all([executor.connected(), executor.info()]);
    return { ...details, gateway: gatewayStatus(meta, connected, workspace) };
  }

  // ---- internals ----

  /**
   * The token is minted and hashed before anything is written: from the first write on, nothing
   * is awaited but storage, so a new sandbox's rows are written in one run.
   */
  async #create(caller: Caller, settings: SandboxSettings): Promise<CreateOutcome> {
    const token = newToken("sb", settings.id);
    const tokenHash = await hashToken(token);
    const now = Date.now();
    const existing = this.#meta.load();
    if (existing) {
      if (!permits(caller, existing.creator, (hash) => this.#meta.hasToken(hash)))
        throw new TetherError("conflict", `sandbox id "${settings.id}" is taken`);
      this.#meta.touch(now);
      this.#meta.addToken(tokenHash, now);
      return { created: false, token, tokenId: sandboxTokenId(tokenHash), ttlSeconds: existing.ttlSeconds };
    }
    if (caller.kind === "sandbox") throw unauthorized("a sandbox token cannot create sandboxes");
    const meta = this.#meta.create(settings, caller.kind === "api" ? caller.tokenId : null, now);
    this.#trace.configure(settings.audit ?? DEFAULT_SANDBOX_AUDIT);
    const executor = this.#backends.executor(meta);
    // First contact: the tunnel must exist and a gateway serve the executor; it pins the instance.
    if (executor) await this.#orUndo(() => executor.contact(), "");
    await this.#orUndo(() => this.#backends.writeInitialFiles(meta, settings.files), "initial files: ");
    this.#meta.addToken(tokenHash, now);
    await this.ctx.storage.setAlarm(now + meta.ttlSeconds * 1000);
    this.#registry.add(meta.id);
    return { created: true, token, tokenId: sandboxTokenId(tokenHash), ttlSeconds: meta.ttlSeconds };
  }

  /** The trail grows fast: prune within PRUNE_SOON_MS unless the alarm fires sooner anyway. */
  #pruneSoon(): void {
    alarmNoLaterThan(this.ctx.storage, Date.now() + PRUNE_SOON_MS).catch((error) =>
      console.error("scheduling pruning", error),
    );
  }

  /** Runs a step of creation; when it fails, nothing of the sandbox is left behind (nor on its executor). */
  async #orUndo(step: () => Promise<unknown>, context: string): Promise<void> {
    try {
      await step();
    } catch (error) {
      await this.#wipe();
      const cause = asHttpError(error);
      throw isTetherError(cause)
        ? new TetherError(cause.code, `${context}${cause.message}`, { headers: cause.headers })
        : cause;
    }
  }

  /** The sandbox's record when it exists and `caller` may use it; the same 404 otherwise. */
  #admit(caller: Caller): SandboxMeta {
    const meta = this.#meta.load();
    if (!meta) throw noSuchSandbox();
    if (!permits(caller, meta.creator, (hash) => this.#meta.hasToken(hash))) {
      // A sandbox token's scope was checked at the edge: here only its secret can be wrong.
      throw caller.kind === "sandbox" ? unauthorized("invalid sandbox token") : noSuchSandbox();
    }
    this.#meta.touch(Date.now());
    this.#registry.retry();
    return meta;
  }

  /** Deletes everything: runs in flight are aborted, storage, alarm and Registry entry removed. */
  async #wipe(): Promise<void> {
    const meta = this.#meta.load();
    const id = meta?.id;
    this.#jobs.invalidate();
    if (meta) await this.#backends.deleteWorkspace(meta);
    this.#backends.forget();
    this.#writes.discard();
    this.#trace.forget();
    this.#meta.forget();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    if (id) await this.#registry.remove(id);
  }
}

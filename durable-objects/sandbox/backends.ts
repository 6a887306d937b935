import { exportTar } from "../../src/sandbox/tar-export.ts";
import { edgeRunTool, type RunTool } from "../../src/sandbox/tool-calls/run-tool-calls.ts";
import type { Env } from "../../workers/env.ts";
import { ExecutorBackend } from "./executor-backend.ts";
import type { MetaStore, SandboxMeta } from "./meta-store.ts";
import { openRuntime, type SandboxRuntime } from "./runtime.ts";
import { deleteFile, getFile, type PutResult, putFile, writeInitialFiles } from "./staging.ts";
import type { ToolsetTarget } from "./toolset-calls.ts";

/**
 * Where a sandbox's files and tools are, by its backend: an edge sandbox's runtime (built over
 * this object's storage, ./runtime.ts), or a gateway sandbox's executor (./executor-backend.ts).
 * The Sandbox object asks here and stays the same for both. In memory only: both are rebuilt
 * from storage after an eviction, and `forget` drops them when the sandbox is wiped.
 */
export class SandboxBackends {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  readonly #meta: MetaStore;
  #runtime: SandboxRuntime | undefined;
  #executor: ExecutorBackend | undefined;

  constructor(ctx: DurableObjectState, env: Env, meta: MetaStore) {
    this.#ctx = ctx;
    this.#env = env;
    this.#meta = meta;
  }

  /** The executor a gateway sandbox lives on; null for an edge sandbox. */
  executor(meta: SandboxMeta): ExecutorBackend | null {
    if (meta.backend.type !== "gateway") return null;
    this.#executor ??= new ExecutorBackend(this.#env, meta.id, meta.backend, meta.env, {
      get: () => this.#meta.load()?.executor ?? null,
      set: (pin) => this.#meta.pinExecutor(pin),
    });
    return this.#executor;
  }

  /** The edge runtime (an edge sandbox's; opening it for a gateway sandbox would create tables for nothing). */
  runtime(meta: SandboxMeta): SandboxRuntime {
    this.#runtime ??= openRuntime(this.#ctx, this.#env, meta);
    return this.#runtime;
  }

  /** The edge runtime of an edge sandbox; null for a gateway sandbox (nothing of it lives here). */
  edgeRuntime(meta: SandboxMeta): SandboxRuntime | null {
    return meta.backend.type === "edge" ? this.runtime(meta) : null;
  }

  /** Where tool calls run: the edge's tools over the runtime, or the executor. */
  runTool(meta: SandboxMeta): RunTool {
    const executor = this.executor(meta);
    return executor
      ? (name, input, onOutput, signal) => executor.runTool(name, input, onOutput, signal)
      : edgeRunTool(this.runtime(meta).tools);
  }

  toolsetTarget(meta: SandboxMeta): ToolsetTarget {
    return this.executor(meta) ?? this.runtime(meta);
  }

  // ---- files (staging: ./staging.ts at the edge; streamed to and from the executor otherwise) ----

  putFile(
    meta: SandboxMeta,
    path: string,
    body: ReadableStream<Uint8Array>,
    length: number | null,
    mode?: number,
  ): Promise<PutResult> {
    return this.executor(meta)?.putFile(path, body, mode) ?? putFile(this.runtime(meta).fs, path, body, length, mode);
  }

  getFile(meta: SandboxMeta, path: string): Promise<Response> {
    return this.executor(meta)?.getFile(path) ?? getFile(this.runtime(meta).fs, path);
  }

  deleteFile(meta: SandboxMeta, path: string): Promise<void> {
    return this.executor(meta)?.deleteFile(path) ?? deleteFile(this.runtime(meta).fs, path);
  }

  async exportTar(meta: SandboxMeta): Promise<ReadableStream<Uint8Array>> {
    const executor = this.executor(meta);
    return executor ? executor.exportTar() : exportTar(this.runtime(meta).tree);
  }

  writeInitialFiles(meta: SandboxMeta, files: Record<string, string>): Promise<void> {
    return this.executor(meta)?.writeInitialFiles(files) ?? writeInitialFiles(this.runtime(meta).fs, files);
  }

  /**
   * A gateway sandbox being wiped: its workspace is deleted on the executor (best effort; one the
   * relay could not reach is recorded on the tunnel for operators). Only a workspace the executor
   * has seen (the sandbox is pinned) can need deleting.
   */
  async deleteWorkspace(meta: SandboxMeta): Promise<void> {
    const executor = this.executor(meta);
    if (!executor || !meta.executor) return;
    const outcome = await executor
      .deleteWorkspace()
      .catch((error: unknown) => ({ deleted: false, reason: String(error) }));
    if (!outcome.deleted) console.warn(`sandbox ${meta.id}: executor workspace not deleted yet: ${outcome.reason}`);
  }

  forget(): void {
    this.#runtime = undefined;
    this.#executor = undefined;
  }
}

/**
 * The Managed Agents toolset inside the Sandbox Durable Object (`toolsetCall`, `abortToolCall`,
 * `listFiles`): each call runs on the sandbox's runtime directly (src/managed-agents/toolset/), in
 * the object's serial queue like every other tool call, and lands in its tool-call trace. On a
 * gateway sandbox the call goes to the executor's tool of the same name (src/sandbox/tools, whose
 * inputs are the toolset's) and its outcome becomes the toolset result; memory-store roots
 * (`extraRoots`) are not reachable there and are refused.
 *
 * In memory only: the calls queued or running, by tool-use id, with the controller that aborts
 * them. An eviction ends them anyway (the runner sees the RPC fail and decides what to re-run:
 * `isReadOnlyToolsetTool`). Lifecycle: one instance per object wake.
 */
import type { z } from "zod";
import { TetherError } from "../../src/errors/tether-error.ts";
import type { ToolsetContext } from "../../src/managed-agents/toolset/context.ts";
import { WORKDIR } from "../../src/managed-agents/toolset/paths.ts";
import { textResult } from "../../src/managed-agents/toolset/result.ts";
import {
  isToolsetTool,
  runToolsetCall,
  type ToolsetCallOutcome,
} from "../../src/managed-agents/toolset/run-toolset-call.ts";
import {
  type ToolsetCallOptions,
  ToolsetCallOptionsSchema,
  type ToolsetToolUse,
  ToolsetToolUseSchema,
} from "../../src/managed-agents/toolset/schemas.ts";
import { isFsError } from "../../src/sandbox/fs/fs-errors.ts";
import { normalizePath } from "../../src/sandbox/fs/paths.ts";
import type { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { byteLength } from "../../src/sandbox/tools/truncate.ts";
import { formatIssues } from "../../src/validation/format-issues.ts";
import type { ExecutorBackend } from "./executor-backend.ts";
import type { SandboxRuntime } from "./runtime.ts";
import type { TraceEntry } from "./trace.ts";

/** Where a toolset call runs: the edge's runtime, or a gateway sandbox's executor. */
export type ToolsetTarget = SandboxRuntime | ExecutorBackend;

/** Runs a job in its turn of the sandbox's queue; `current()` is false once the sandbox was wiped under it. */
export type InQueue = <T>(
  abort: AbortController,
  job: (target: ToolsetTarget, current: () => boolean) => Promise<T>,
) => Promise<T>;

/** Files `listFiles` answers at most: past this it refuses rather than answer part of the tree. */
export const LIST_FILES_LIMIT = 10_000;

export class ToolsetCalls {
  readonly #calls = new Map<string, AbortController>();
  readonly #record: (entry: TraceEntry) => void;

  constructor(record: (entry: TraceEntry) => void) {
    this.#record = record;
  }

  /**
   * Runs one toolset call in the queue. A name outside the toolset is answered `{ owned: false }`
   * without queueing. An aborted call (abortToolCall, or the sandbox destroyed) answers at once
   * with an error, whether it was waiting or running; a running bash command stops at its next
   * statement, and the queue moves on when it has.
   */
  async call(
    rawToolUse: unknown,
    rawOptions: unknown,
    inQueue: InQueue,
    /** Who called, for the trail (a Managed Agents session given in the options wins). */
    caller: string | null = null,
  ): Promise<ToolsetCallOutcome> {
    const toolUse = parse(ToolsetToolUseSchema, rawToolUse ?? null, "tool use");
    const options = parse(ToolsetCallOptionsSchema, rawOptions ?? {}, "options");
    if (!isToolsetTool(toolUse.name)) return { owned: false };
    if (this.#calls.has(toolUse.id)) {
      throw new TetherError("conflict", `toolset call ${toolUse.id} is already queued or running`);
    }
    const abort = new AbortController();
    this.#calls.set(toolUse.id, abort);
    const aborted = new Promise<never>((_, reject) => {
      abort.signal.addEventListener("abort", () => reject(abortError(abort.signal, toolUse.id)), { once: true });
    });
    const who = options.session ? `session:${options.session}` : caller;
    const work = inQueue(abort, (runtime, current) =>
      this.#runNow(runtime, toolUse, options, abort.signal, current, who),
    );
    // Whichever of the two loses is settled later with nobody waiting: not an unhandled rejection.
    aborted.catch(() => {});
    work.catch(() => {});
    try {
      return await Promise.race([work, aborted]);
    } finally {
      if (this.#calls.get(toolUse.id) === abort) this.#calls.delete(toolUse.id);
    }
  }

  /** Aborts the call with this id, queued or running; false when there is none. */
  abort(id: string): boolean {
    const abort = this.#calls.get(id);
    if (!abort) return false;
    this.#calls.delete(id);
    abort.abort(new TetherError("conflict", `toolset call ${id} was aborted`));
    return true;
  }

  async #runNow(
    target: ToolsetTarget,
    toolUse: ToolsetToolUse,
    options: ToolsetCallOptions,
    signal: AbortSignal,
    current: () => boolean,
    caller: string | null,
  ): Promise<ToolsetCallOutcome> {
    const started = performance.now();
    const trace = (bytes: number, error: string | null, result: string | null = null) => {
      if (!current()) return;
      const durationMs = performance.now() - started;
      const { id: toolUseId, name: tool, input } = toolUse;
      this.#record({ at: Date.now(), toolUseId, tool, durationMs, bytes, error, caller, input, result });
    };
    if (signal.aborted) {
      trace(0, `${toolUse.name}: aborted before it ran`);
      throw abortError(signal, toolUse.id);
    }
    try {
      const outcome = await runOn(target, toolUse, options, signal);
      if (outcome.owned) {
        const text = outcome.result.content.map((block) => block.text).join("");
        const error = signal.aborted ? `${toolUse.name}: aborted` : outcome.result.is_error ? text : null;
        trace(byteLength(text), error, text);
      }
      return outcome;
    } catch (error) {
      trace(0, `${toolUse.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
}

/**
 * The regular files under `root` (absolute), with sizes and mtimes; none when `root` does not
 * exist; refused past LIST_FILES_LIMIT. A single read of the index, so it needs no turn of the
 * queue: it sees the tree between two statements of whatever runs.
 */
export function listSandboxFiles(fs: SqliteFs, root: string): { path: string; size: number; mtimeMs: number }[] {
  if (typeof root !== "string" || !root.startsWith("/")) {
    throw new TetherError("bad_request", "listFiles: root must be an absolute path");
  }
  try {
    const listing = fs.listFiles(root, { limit: LIST_FILES_LIMIT });
    if (!listing.complete) {
      throw new TetherError(
        "payload_too_large",
        `listFiles: more than ${LIST_FILES_LIMIT} files under ${root}; list a narrower directory`,
      );
    }
    return listing.files;
  } catch (error) {
    // No directory holds no files: what the memory sync's SandboxFiles.list promises for a missing root.
    if (isFsError(error, "ENOENT")) return [];
    if (isFsError(error, "ENOTDIR")) throw new TetherError("bad_request", `listFiles: ${root}: not a directory`);
    throw error;
  }
}

/** The RPC's arguments checked at the boundary (a runner passes an event's fields through). */
function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    throw new TetherError("bad_request", `toolsetCall: invalid ${what}: ${formatIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** What an aborted call answers: the abort's own TetherError, or the sandbox gone (destroyed under it). */
function abortError(signal: AbortSignal, id: string): TetherError {
  if (signal.reason instanceof TetherError) return signal.reason;
  return new TetherError("not_found", `toolset call ${id} ended: the sandbox was destroyed`);
}

async function runOn(
  target: ToolsetTarget,
  toolUse: ToolsetToolUse,
  options: ToolsetCallOptions,
  signal: AbortSignal,
): Promise<ToolsetCallOutcome> {
  if ("fs" in target) {
    const ctx: ToolsetContext = {
      fs: target.fs,
      bash: target.bash,
      tools: target.tools,
      roots: [WORKDIR, ...(options.extraRoots ?? []).map(normalizePath)],
      signal,
    };
    return runToolsetCall(ctx, toolUse);
  }
  if ((options.extraRoots ?? []).length > 0) {
    const text = `${toolUse.name}: memory stores (extraRoots) are not available on a gateway's executor`;
    return { owned: true, result: textResult(text, true) };
  }
  const outcome = await target.runTool(toolUse.name, toolUse.input, () => {}, signal);
  return { owned: true, result: textResult(outcome.text, outcome.isError === true) };
}

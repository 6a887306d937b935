/**
 * The seam between the Managed Agents toolset and a Tether sandbox: what a session runner (its own
 * Durable Object) can reach of the session's Sandbox Durable Object, which is its RPC surface and
 * nothing more. The toolset is built on three of those methods, so the sandbox itself does not
 * change:
 *
 *   - `toolCalls` runs the sandbox's own tools (bash, write, grep) in the sandbox's queue, so they
 *     never overlap other callers' calls and they appear in its tool-call trace;
 *   - `getFile` reads raw bytes (read, edit, and scratch files the adapters read back), which the
 *     read tool's own text (numbered lines) would not give; `deleteFile` removes scratch files.
 *
 * Every toolset call costs one or two sandbox calls: a bash call that follows symlinks for the
 * file tools' paths (or runs the command), then the tool itself. Those helper calls appear in the
 * sandbox's trace as bash calls.
 *
 * Tests build the same target over a stub from `env.SANDBOX`; any object with these methods works.
 */
import { type RpcResult, unwrap } from "../../errors/rpc-result.ts";
import type { TetherError } from "../../errors/tether-error.ts";
import { isTetherError } from "../../errors/tether-error.ts";
import type { ToolCallMeta } from "../../sandbox/tool-calls/events.ts";
import type { ToolResultBlock, ToolUseBlock } from "../../sandbox/tool-calls/tool-use-block.ts";

/** Who the session runner is to the sandbox (durable-objects/sandbox/caller.ts): usually the admin kind. */
export type SandboxCaller =
  | { kind: "admin" }
  | { kind: "api"; tokenId: string }
  | { kind: "sandbox"; tokenHash: string };

/** The Sandbox Durable Object's RPC methods the toolset uses (a `DurableObjectStub<Sandbox>` has them). */
export interface SandboxRpc {
  toolCalls(caller: SandboxCaller, blocks: ToolUseBlock[], format: "json"): Promise<RpcResult<Response>>;
  getFile(caller: SandboxCaller, path: string): Promise<RpcResult<Response>>;
  deleteFile(caller: SandboxCaller, path: string): Promise<RpcResult<void>>;
}

/** One sandbox tool call's result as the toolset reads it. */
export interface SandboxToolResult {
  text: string;
  isError: boolean;
  exitCode: number | undefined;
  /** The sandbox's reason for an error (timeout, limit, invalid_input, not_found, …). */
  errorKind: string | undefined;
}

/** A file the sandbox answered with, or the refusal (not found, a directory, …) as a TetherError. */
export type FileAnswer =
  | { ok: true; size: number; body: ReadableStream<Uint8Array> }
  | { ok: false; error: TetherError };

/** What the toolset needs from a sandbox, built over its RPC methods by `sandboxTarget`. */
export interface ToolsetSandbox {
  runTool(name: string, input: Record<string, unknown>): Promise<SandboxToolResult>;
  openFile(path: string): Promise<FileAnswer>;
  /** Removes a file; a missing one is not an error. */
  removeFile(path: string): Promise<void>;
}

export function sandboxTarget(rpc: SandboxRpc, caller: SandboxCaller): ToolsetSandbox {
  return {
    async runTool(name, input) {
      const block: ToolUseBlock = { type: "tool_use", id: `toolset_${crypto.randomUUID()}`, name, input };
      const response = unwrap(await rpc.toolCalls(caller, [block], "json"));
      const answer = (await response.json()) as { content: ToolResultBlock[]; meta: ToolCallMeta[] };
      const result = answer.content[0];
      const meta = answer.meta[0];
      if (!result || !meta) throw new Error(`the sandbox answered no result for ${name}`);
      return {
        text: result.content.map((block) => block.text).join(""),
        isError: result.is_error,
        exitCode: meta.exit_code,
        errorKind: meta.error_kind,
      };
    },
    async openFile(path) {
      return settled(async () => {
        const response = unwrap(await rpc.getFile(caller, path));
        const body = response.body ?? new Blob([]).stream();
        return { size: Number(response.headers.get("content-length") ?? 0), body };
      });
    },
    async removeFile(path) {
      const result = await rpc.deleteFile(caller, path);
      if (!result.ok && result.error.code !== "not_found") unwrap(result);
    },
  };
}

/** The work's value, or the TetherError it was refused with; other errors throw. */
async function settled<T extends object>(
  work: () => Promise<T>,
): Promise<({ ok: true } & T) | { ok: false; error: TetherError }> {
  try {
    return { ok: true, ...(await work()) };
  } catch (error) {
    if (isTetherError(error)) return { ok: false, error };
    throw error;
  }
}

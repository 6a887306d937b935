/**
 * How the runner runs one of the session's tool uses in its sandbox: the single seam between the
 * runner and the Sandbox object's tools.
 *
 * INTERIM: the Sandbox's `toolsetCall(caller, {id, name, input}, {extraRoots})` RPC (which owns the
 * toolset's names and answers `{owned:false}` for others) is not on this branch yet. Until it is,
 * this adapter decides ownership by the toolset's names itself and runs the call through the existing
 * `toolCalls(caller, [block], "json")` RPC. The sandbox's tools already answer to the toolset's names
 * (bash read write edit glob grep) with the toolset's inputs, so a tool use maps to a `tool_use` block
 * unchanged; `extraRoots` (memory mounts) cannot be passed that way and is ignored until then.
 * Replace the body of `toolsetCall` with the RPC when it lands; nothing else changes:
 *   return unwrap(await sandbox.toolsetCall({ kind: "admin" }, call, { extraRoots: options.extraRoots }));
 * (and `ToolsetResult` here with the toolset's own type).
 */
import type { Sandbox } from "../../../durable-objects/sandbox.ts";
import { type RpcResult, unwrap } from "../../errors/rpc-result.ts";
import type { ToolCallsJson } from "../../sandbox/tool-calls/json.ts";

/** The tools of `agent_toolset_20260401` a worker runs (protocol §5). */
export const TOOLSET_TOOLS: ReadonlySet<string> = new Set(["bash", "read", "write", "edit", "glob", "grep"]);
/** Tools that change nothing: run again (instead of reported interrupted) after the runner restarts. */
export const READ_ONLY_TOOLS: ReadonlySet<string> = new Set(["read", "glob", "grep"]);

export interface ToolsetResult {
  content: { type: "text"; text: string }[];
  is_error: boolean;
}

export type ToolsetAnswer = { owned: false } | { owned: true; result: ToolsetResult };

export interface ToolsetCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export function ownsTool(name: string): boolean {
  return TOOLSET_TOOLS.has(name);
}

/** Runs one tool use in the sandbox; throws when the sandbox refuses the call itself (not the tool). */
export async function toolsetCall(
  sandbox: DurableObjectStub<Sandbox>,
  call: ToolsetCall,
  _options: { extraRoots: string[] },
): Promise<ToolsetAnswer> {
  if (!ownsTool(call.name)) return { owned: false };
  const answer: RpcResult<Response> = await sandbox.toolCalls(
    { kind: "admin" },
    [{ type: "tool_use", id: call.id, name: call.name, input: call.input }],
    "json",
  );
  const body = (await unwrap(answer).json()) as ToolCallsJson;
  const block = body.content[0];
  if (!block) throw new Error(`the sandbox answered no result for ${call.name}`);
  return { owned: true, result: { content: block.content, is_error: block.is_error } };
}

/**
 * How the runner runs one of the session's tool uses in its sandbox: the single seam between the
 * runner and the Sandbox object's toolset (`toolsetCall`, which owns the toolset's names and answers
 * `{owned:false}` for any other), called as the admin.
 */
import type { Sandbox } from "../../../durable-objects/sandbox.ts";
import { unwrap } from "../../errors/rpc-result.ts";
import type { ToolsetResult } from "../toolset/result.ts";
import { isReadOnlyToolsetTool, isToolsetTool, type ToolsetCallOutcome } from "../toolset/run-toolset-call.ts";

export type { ToolsetCallOutcome, ToolsetResult };

export interface ToolsetCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** The toolset's tools (bash read write edit glob grep): the runner answers these, and only these. */
export const ownsTool = isToolsetTool;
/** Tools that change nothing: run again (instead of reported interrupted) after the runner restarts. */
export const isReadOnlyTool = isReadOnlyToolsetTool;

/** Runs one tool use in the sandbox; throws when the sandbox refuses the call itself (not the tool). */
export async function toolsetCall(
  sandbox: DurableObjectStub<Sandbox>,
  call: ToolsetCall,
  options: { extraRoots: string[]; session?: string },
): Promise<ToolsetCallOutcome> {
  return unwrap(
    await sandbox.toolsetCall({ kind: "admin" }, call, { extraRoots: options.extraRoots, session: options.session }),
  );
}

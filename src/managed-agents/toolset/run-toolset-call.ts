/**
 * Runs one `agent.tool_use` of `agent_toolset_20260401` on a sandbox's runtime and builds the
 * `user.tool_result` content the way Anthropic's reference runner does.
 *
 * The seam: a session runner holds an RPC stub of the session's Sandbox Durable Object and calls
 *
 *     stub.toolsetCall(caller, { id, name, input }, { extraRoots })
 *
 * for every `agent.tool_use` it has decided to run (permissions are its business); the object runs
 * it here, in its queue (durable-objects/sandbox/toolset-calls.ts). The answer is `{ owned: false }`
 * for a name outside the toolset (the runner posts nothing for those, as the reference does) or
 * `{ owned: true, result }`, whose `content` and `is_error` go into the `user.tool_result` event as
 * they are. Input that fails its tool's schema, a path outside the roots and every refusal of the
 * tool come back as an `is_error` result whose text starts with the tool's name; nothing runs for
 * invalid input. A failure of the sandbox itself throws.
 */
import type { z } from "zod";
import { formatIssues } from "../../validation/format-issues.ts";
import { runBash } from "./bash.ts";
import type { ToolsetContext } from "./context.ts";
import { runEdit } from "./edit.ts";
import { runGlob } from "./glob.ts";
import { runGrep } from "./grep.ts";
import { runRead } from "./read.ts";
import { errorResult, ToolsetError, type ToolsetResult } from "./result.ts";
import {
  BashInputSchema,
  EditInputSchema,
  GlobInputSchema,
  GrepInputSchema,
  ReadInputSchema,
  WriteInputSchema,
} from "./schemas.ts";
import { runWrite } from "./write.ts";

export type ToolsetCallOutcome = { owned: false } | { owned: true; result: ToolsetResult };

const tool = <S extends z.ZodType>(
  schema: S,
  run: (ctx: ToolsetContext, input: z.output<S>) => Promise<ToolsetResult>,
  readOnly: boolean,
) => ({
  readOnly,
  call: async (ctx: ToolsetContext, name: string, input: unknown): Promise<ToolsetResult> => {
    const parsed = schema.safeParse(input, { reportInput: true });
    if (!parsed.success) {
      return errorResult(new ToolsetError(name, `invalid input: ${formatIssues(parsed.error.issues)}`));
    }
    try {
      return await run(ctx, parsed.data);
    } catch (error) {
      if (error instanceof ToolsetError) return errorResult(error);
      throw error;
    }
  },
});

/**
 * The toolset's tools by name: the worker owns exactly these. `readOnly`: the tool changes
 * nothing, so a runner may run it again after an interruption without asking whether it already
 * ran (read, glob, grep); bash, write and edit may have had their effect.
 */
const TOOLSET = {
  bash: tool(BashInputSchema, runBash, false),
  read: tool(ReadInputSchema, runRead, true),
  write: tool(WriteInputSchema, runWrite, false),
  edit: tool(EditInputSchema, runEdit, false),
  glob: tool(GlobInputSchema, runGlob, true),
  grep: tool(GrepInputSchema, runGrep, true),
} as const;

export type ToolsetToolName = keyof typeof TOOLSET;

export const TOOLSET_TOOL_NAMES = Object.keys(TOOLSET) as readonly ToolsetToolName[];

export function isToolsetTool(name: string): name is ToolsetToolName {
  return Object.hasOwn(TOOLSET, name);
}

/** Whether the tool only reads (safe to re-run after an interruption): read, glob, grep. */
export function isReadOnlyToolsetTool(name: string): boolean {
  return isToolsetTool(name) && TOOLSET[name].readOnly;
}

export async function runToolsetCall(
  ctx: ToolsetContext,
  toolUse: { name: string; input: unknown },
): Promise<ToolsetCallOutcome> {
  if (!isToolsetTool(toolUse.name)) return { owned: false };
  return { owned: true, result: await TOOLSET[toolUse.name].call(ctx, toolUse.name, toolUse.input) };
}

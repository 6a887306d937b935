/**
 * Runs one `agent.tool_use` of `agent_toolset_20260401` in a Tether sandbox and builds the
 * `user.tool_result` content the way Anthropic's reference runner does.
 *
 * The seam: a session runner holds an RPC stub of the session's Sandbox Durable Object and calls
 *
 *     runToolsetCall(sandboxTarget(stub, { kind: "admin" }), { name, input })
 *
 * for every `agent.tool_use` it has decided to run (permissions are its business). The answer is
 * `{ owned: false }` for a name outside the toolset (the runner posts nothing for those, as the
 * reference does) or `{ owned: true, result }`, whose `content` and `is_error` go into the
 * `user.tool_result` event as they are. Input that fails its tool's schema, a path outside the
 * workdir and every refusal of the tool come back as an `is_error` result whose text starts with
 * the tool's name; nothing runs for invalid input. A failure of the sandbox itself (the object
 * unreachable, reset under the call) throws: whether to retry or report it is the runner's choice.
 */
import type { z } from "zod";
import { formatIssues } from "../../validation/format-issues.ts";
import { runBash } from "./bash.ts";
import { runEdit } from "./edit.ts";
import { runGlob } from "./glob.ts";
import { runGrep } from "./grep.ts";
import { runRead } from "./read.ts";
import { errorResult, ToolsetError, type ToolsetResult } from "./result.ts";
import type { ToolsetSandbox } from "./sandbox-target.ts";
import {
  BashInputSchema,
  EditInputSchema,
  GlobInputSchema,
  GrepInputSchema,
  ReadInputSchema,
  WriteInputSchema,
} from "./schemas.ts";
import { runWrite } from "./write.ts";

export interface ToolsetToolUse {
  name: string;
  input: unknown;
}

export type ToolsetCallOutcome = { owned: false } | { owned: true; result: ToolsetResult };

interface ToolsetTool<S extends z.ZodType> {
  schema: S;
  run(sandbox: ToolsetSandbox, input: z.output<S>): Promise<ToolsetResult>;
}

const tool = <S extends z.ZodType>(schema: S, run: ToolsetTool<S>["run"]) => ({
  call: async (sandbox: ToolsetSandbox, name: string, input: unknown): Promise<ToolsetResult> => {
    const parsed = schema.safeParse(input, { reportInput: true });
    if (!parsed.success) {
      return errorResult(new ToolsetError(name, `invalid input: ${formatIssues(parsed.error.issues)}`));
    }
    try {
      return await run(sandbox, parsed.data);
    } catch (error) {
      if (error instanceof ToolsetError) return errorResult(error);
      throw error;
    }
  },
});

/** The toolset's tools by name: the worker owns exactly these. */
const TOOLSET = {
  bash: tool(BashInputSchema, runBash),
  read: tool(ReadInputSchema, runRead),
  write: tool(WriteInputSchema, runWrite),
  edit: tool(EditInputSchema, runEdit),
  glob: tool(GlobInputSchema, runGlob),
  grep: tool(GrepInputSchema, runGrep),
} as const;

export type ToolsetToolName = keyof typeof TOOLSET;

export const TOOLSET_TOOL_NAMES = Object.keys(TOOLSET) as ToolsetToolName[];

export function isToolsetTool(name: string): name is ToolsetToolName {
  return Object.hasOwn(TOOLSET, name);
}

export async function runToolsetCall(sandbox: ToolsetSandbox, toolUse: ToolsetToolUse): Promise<ToolsetCallOutcome> {
  if (!isToolsetTool(toolUse.name)) return { owned: false };
  return { owned: true, result: await TOOLSET[toolUse.name].call(sandbox, toolUse.name, toolUse.input) };
}

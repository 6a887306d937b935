/**
 * The inputs of `agent_toolset_20260401` as the agent sends them, validated here at the boundary
 * (an `agent.tool_use` event's `input` is whatever the model produced). The shapes follow the
 * reference runner's JSON Schemas; a field it requires is required here, and the messages name the
 * field.
 */
import { z } from "zod";
import { linearRegexProblem } from "../../sandbox/regex/linear-regex.ts";

const NonEmpty = (what: string) => z.string().min(1, `${what} is required`);

export const BashInputSchema = z.object({
  command: z.string().optional(),
  restart: z.boolean().optional(),
  timeout_ms: z.int().positive().optional(),
});

export const ReadInputSchema = z.object({
  file_path: NonEmpty("file_path"),
  view_range: z.array(z.int()).length(2, "view_range must be [start_line, end_line]").optional(),
});

export const WriteInputSchema = z.object({
  file_path: NonEmpty("file_path"),
  content: z.string(),
});

export const EditInputSchema = z.object({
  file_path: NonEmpty("file_path"),
  old_string: NonEmpty("old_string"),
  new_string: z.string(),
  replace_all: z.boolean().optional(),
});

export const GlobInputSchema = z.object({
  pattern: NonEmpty("pattern"),
  path: z.string().optional(),
});

/**
 * The reference runner greps with ripgrep or a JavaScript RegExp; Tether's sandbox matches on a
 * linear-time engine (a model-written pattern must not stall the sandbox), so a pattern that engine
 * cannot run (backreferences, lookaround) is refused here, saying why, before anything runs.
 */
export const GrepInputSchema = z.object({
  pattern: NonEmpty("pattern").superRefine((pattern, ctx) => {
    const problem = linearRegexProblem(pattern);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  path: z.string().optional(),
});

export type BashInput = z.infer<typeof BashInputSchema>;
export type ReadInput = z.infer<typeof ReadInputSchema>;
export type WriteInput = z.infer<typeof WriteInputSchema>;
export type EditInput = z.infer<typeof EditInputSchema>;
export type GlobInput = z.infer<typeof GlobInputSchema>;
export type GrepInput = z.infer<typeof GrepInputSchema>;

/**
 * What the Sandbox's `toolsetCall` RPC takes, checked there (the runner passes an event's fields
 * through): the tool use's event id (what `abortToolCall` names it by), its name and raw input.
 */
export const ToolsetToolUseSchema = z.object({
  id: z.string().min(1, "id is required").max(200),
  name: z.string(),
  input: z.unknown(),
});
export type ToolsetToolUse = z.infer<typeof ToolsetToolUseSchema>;

/** Directories paths may resolve into besides the workdir: absolute, normalised below `/`. */
export const ToolsetCallOptionsSchema = z.object({
  extraRoots: z
    .array(
      z
        .string()
        .refine((root) => root.startsWith("/") && root !== "/", "must be an absolute directory other than /")
        .refine((root) => !root.split("/").includes(".."), 'must not contain ".."'),
    )
    .max(32)
    .optional(),
  /** The Managed Agents session making the call, recorded as the caller in the sandbox's audit trail. */
  session: z.string().min(1).max(200).optional(),
});
export type ToolsetCallOptions = z.infer<typeof ToolsetCallOptionsSchema>;

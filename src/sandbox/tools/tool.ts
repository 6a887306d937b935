import type { z } from "zod";
import { type ErrorCode, isTetherError } from "../../errors/tether-error.ts";
import { formatIssues } from "../../validation/format-issues.ts";
import type { OutputListener, ToolContext } from "./context.ts";

/**
 * Why a tool call ended in an `is_error` result: the input did not validate, the tool does not exist,
 * the shell hit its timeout or an execution limit, the tool refused with a TetherError (its code), or
 * (for a sandbox on a gateway's executor) the gateway serving it is not connected.
 */
export type ToolErrorKind = "invalid_input" | "unknown_tool" | "timeout" | "limit" | "gateway_unavailable" | ErrorCode;

/** What one tool call produced, before it is wrapped into a tool_result block. */
export interface ToolOutcome {
  text: string;
  isError?: boolean;
  errorKind?: ToolErrorKind;
  /** The shell's exit status (bash) or 0/1 for code that finished or threw (run_code). */
  exitCode?: number;
  /** True when output was cut at a cap; the text then carries a marker. */
  truncated?: boolean;
}

export interface Tool {
  readonly name: string;
  readonly description: string;
  /** Claude's input schema for the tool; also the source of the JSON Schema listed over MCP. */
  readonly inputSchema: z.ZodType;
  /**
   * Validates `input`, runs the tool, and never throws: invalid input and every failure become an
   * `is_error` outcome whose text says what went wrong.
   */
  call(input: unknown, ctx: ToolContext, onOutput?: OutputListener): Promise<ToolOutcome>;
}

export interface ToolSpec<S extends z.ZodType> {
  name: string;
  description: string;
  inputSchema: S;
  /** Runs with validated input. Throw a TetherError to refuse with a clear message. */
  run(input: z.output<S>, ctx: ToolContext, onOutput: OutputListener): Promise<ToolOutcome>;
}

const ignoreOutput: OutputListener = () => {};

export function defineTool<S extends z.ZodType>(spec: ToolSpec<S>): Tool {
  return {
    name: spec.name,
    description: spec.description,
    inputSchema: spec.inputSchema,
    async call(input, ctx, onOutput = ignoreOutput) {
      const parsed = spec.inputSchema.safeParse(input, { reportInput: true });
      if (!parsed.success) {
        return failure("invalid_input", `invalid input for ${spec.name}: ${formatIssues(parsed.error.issues)}`);
      }
      try {
        return await spec.run(parsed.data, ctx, onOutput);
      } catch (error) {
        return fromThrown(spec.name, error);
      }
    },
  };
}

export function failure(errorKind: ToolErrorKind, text: string): ToolOutcome {
  return { text, isError: true, errorKind };
}

/** A TetherError's message is written for the caller; other errors (e.g. from the filesystem) keep their text. */
function fromThrown(tool: string, error: unknown): ToolOutcome {
  if (isTetherError(error)) return failure(error.code, error.message);
  const message = error instanceof Error ? error.message : String(error);
  return failure("internal", `${tool} failed: ${message}`);
}

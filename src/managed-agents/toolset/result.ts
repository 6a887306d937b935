/**
 * What the toolset answers an `agent.tool_use` with: the content and error flag of the
 * `user.tool_result` event, as Anthropic's reference runner builds them.
 */

/** A text block of a `user.tool_result` (the toolset only ever answers with text). */
export interface ToolsetTextBlock {
  type: "text";
  text: string;
}

export interface ToolsetResult {
  content: ToolsetTextBlock[];
  is_error: boolean;
}

/** The runner posts `(no output)` for an empty result: the API rejects empty text blocks. */
export const NO_OUTPUT = "(no output)";

export function textResult(text: string, isError = false): ToolsetResult {
  return { content: [{ type: "text", text: text === "" ? NO_OUTPUT : text }], is_error: isError };
}

/**
 * A tool's refusal or failure. The reference runner's tools throw errors whose text starts with the
 * tool's name (`read: …`), and the runner posts that text with `is_error`.
 */
export class ToolsetError extends Error {
  override readonly name = "ToolsetError";
  constructor(tool: string, message: string) {
    super(`${tool}: ${message}`);
  }
}

export function errorResult(error: ToolsetError): ToolsetResult {
  return textResult(error.message, true);
}

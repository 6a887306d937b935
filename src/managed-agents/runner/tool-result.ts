/**
 * What the runner posts for a tool use (protocol §3): a `user.tool_result` with the tool's text
 * (`(no output)` when empty), `is_error` on failures, and the text for a call the runner's restart
 * interrupted.
 */
import type { UserToolResult } from "../protocol.ts";
import { NO_OUTPUT, type ToolsetResult } from "../toolset/result.ts";

export function interruptedResult(tool: string): ToolsetResult {
  return {
    content: [
      {
        type: "text",
        text: `${tool}: interrupted: the worker restarted while this call was running; it may or may not have completed`,
      },
    ],
    is_error: true,
  };
}

/** A failure of the runner's own (the sandbox refused the call), answered as the tool's error. */
export function failedResult(tool: string, message: string): ToolsetResult {
  return { content: [{ type: "text", text: `${tool}: ${message}` }], is_error: true };
}

export function toolResultEvent(toolUseId: string, result: ToolsetResult): UserToolResult {
  const texts = result.content.filter((block) => block.text !== "").map((block) => block.text);
  const content = (texts.length > 0 ? texts : [NO_OUTPUT]).map((text) => ({ type: "text" as const, text }));
  return { type: "user.tool_result", tool_use_id: toolUseId, content, is_error: result.is_error };
}

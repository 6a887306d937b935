/**
 * `read` as the reference runner answers it: the file's text as it is (no line numbers, the final
 * newline kept), or the lines `view_range` names, 1-indexed and inclusive, an end of 0 or less
 * meaning the end of the file. Files over 256 KiB are refused with a pointer to bash, as the
 * reference does (the sandbox's own read numbers lines and pages through large files instead).
 */
import type { ToolsetContext } from "./context.ts";
import { loadTextFile } from "./file-access.ts";
import { type ToolsetResult, textResult } from "./result.ts";
import type { ReadInput } from "./schemas.ts";

export async function runRead(ctx: ToolsetContext, input: ReadInput): Promise<ToolsetResult> {
  const { text } = await loadTextFile(ctx, "read", input.file_path, "Use bash (head/tail/sed) to read a slice.");
  if (!input.view_range) return textResult(text);
  const [startLine = 1, endLine = 0] = input.view_range;
  const lines = text.split("\n");
  const start = Math.max(0, startLine - 1);
  const end = endLine > 0 ? endLine : lines.length;
  return textResult(lines.slice(start, end).join("\n"));
}

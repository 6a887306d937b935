/**
 * `write` as the reference runner answers it: parents created, the file replaced whole (the
 * sandbox writes it in one transaction, so a failed write leaves the old content), and
 * `wrote N bytes to P` with P as the agent gave it.
 */
import type { ToolsetContext } from "./context.ts";
import { storeTextFile } from "./file-access.ts";
import { resolveInRoots } from "./paths.ts";
import { type ToolsetResult, textResult } from "./result.ts";
import type { WriteInput } from "./schemas.ts";

export async function runWrite(ctx: ToolsetContext, input: WriteInput): Promise<ToolsetResult> {
  const path = resolveInRoots(ctx, "write", input.file_path);
  const bytes = await storeTextFile(ctx, "write", path, input.file_path, input.content);
  return textResult(`wrote ${bytes} bytes to ${input.file_path}`);
}

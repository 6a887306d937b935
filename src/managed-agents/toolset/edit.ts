/**
 * `edit` as the reference runner answers it: `old_string` must occur exactly once unless
 * `replace_all`, is replaced literally (`$&` in the new text stays as written), and the answer is
 * `edited P (N replacement(s))`. Files over 256 KiB are refused with a pointer to bash.
 *
 * The file is read and written back in the same turn of the sandbox's queue, so no other call of
 * the sandbox runs in between.
 */
import type { ToolsetContext } from "./context.ts";
import { loadTextFile, storeTextFile } from "./file-access.ts";
import { ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { EditInput } from "./schemas.ts";

export async function runEdit(ctx: ToolsetContext, input: EditInput): Promise<ToolsetResult> {
  const shown = input.file_path;
  const { path, text } = await loadTextFile(ctx, "edit", shown, "Use bash (sed/awk) to edit a large file.");
  const pieces = text.split(input.old_string);
  const count = pieces.length - 1;
  if (count === 0) throw new ToolsetError("edit", `old_string not found in ${shown}`);
  if (count > 1 && !input.replace_all) {
    throw new ToolsetError("edit", `old_string appears ${count} times in ${shown} (must be unique)`);
  }
  await storeTextFile(ctx, "edit", path, shown, pieces.join(input.new_string));
  return textResult(`edited ${shown} (${input.replace_all ? count : 1} replacement(s))`);
}

import { z } from "zod";
import { FilePathSchema, looksBinary, readTextFile, resolveToolPath } from "./files.ts";
import { numberLines, selectRange, splitLines, ViewRangeSchema } from "./line-view.ts";
import { defineTool } from "./tool.ts";
import { KIB } from "./truncate.ts";

/** Reference limit of the Managed Agents toolset: a read returns at most 256 KiB. */
export const READ_MAX_BYTES = 256 * KIB;

export const ReadInputSchema = z.object({
  file_path: FilePathSchema,
  view_range: ViewRangeSchema.optional().describe("[start_line, end_line], 1-based; end_line -1 reads to the end"),
});
export type ReadInput = z.infer<typeof ReadInputSchema>;

export const readTool = defineTool({
  name: "read",
  description:
    "Read a text file. Lines are numbered like `cat -n`. Pass view_range [start, end] (1-based, end -1 = end " +
    "of file) to read part of a large file; output is capped at 256 KiB.",
  inputSchema: ReadInputSchema,
  async run(input, ctx) {
    const path = resolveToolPath(ctx.fs, input.file_path);
    const text = await readTextFile(ctx.fs, path);
    if (looksBinary(text)) return { text: `${path} is a binary file; inspect it with bash (e.g. \`od -c\`)` };
    const lines = splitLines(text);
    if (lines.length === 0) return { text: `(${path} is empty)` };
    const range = selectRange(lines, input.view_range);
    const view = numberLines(range.lines, range.first, lines.length, READ_MAX_BYTES);
    return { text: view.text, truncated: view.truncated };
  },
});

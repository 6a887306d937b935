import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { viewFile } from "./file-view.ts";
import { FilePathSchema, resolveToolPath, statOrNull } from "./files.ts";
import { ViewRangeSchema } from "./line-view.ts";
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
    "of file) to read part of a large file; output is capped at 256 KiB. Files of any size are read a chunk " +
    "at a time.",
  inputSchema: ReadInputSchema,
  async run(input, ctx) {
    const path = resolveToolPath(ctx.fs, input.file_path);
    const stat = await statOrNull(ctx.fs, path);
    if (!stat) throw new TetherError("not_found", `file not found: ${path}`);
    if (stat.isDirectory) throw new TetherError("bad_request", `${path} is a directory, not a file`);
    const view = await viewFile(ctx.fs, path, stat.size, input.view_range, READ_MAX_BYTES);
    if (view.kind === "binary") return { text: `${path} is a binary file; inspect it with bash (e.g. \`od -c\`)` };
    if (view.kind === "empty") return { text: `(${path} is empty)` };
    return { text: view.text, truncated: view.truncated };
  },
});

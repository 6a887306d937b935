import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { FilePathSchema, resolveToolPath, statOrNull, writeTextFile } from "./files.ts";
import { defineTool } from "./tool.ts";
import { byteLength } from "./truncate.ts";

export const WriteInputSchema = z.object({
  file_path: FilePathSchema,
  content: z.string().describe("The whole new content of the file"),
});
export type WriteInput = z.infer<typeof WriteInputSchema>;

export const writeTool = defineTool({
  name: "write",
  description: "Write a file, replacing it if it exists. Missing parent directories are created.",
  inputSchema: WriteInputSchema,
  async run(input, ctx) {
    const path = resolveToolPath(ctx.fs, input.file_path);
    const existing = await statOrNull(ctx.fs, path);
    if (existing?.isDirectory) throw new TetherError("bad_request", `${path} is a directory, not a file`);
    await writeTextFile(ctx.fs, path, input.content);
    const size = byteLength(input.content);
    return {
      text: existing
        ? `The file ${path} has been overwritten (${size} bytes).`
        : `File created successfully at: ${path} (${size} bytes).`,
    };
  },
});

import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { FilePathSchema, readTextFile, resolveToolPath, writeTextFile } from "./files.ts";
import { snippetAround } from "./line-view.ts";
import { countNewlines, findOccurrences, formatLineList, replaceLiteral } from "./replace-text.ts";
import { defineTool } from "./tool.ts";

export const EditInputSchema = z.object({
  file_path: FilePathSchema,
  old_string: z.string().describe("Exact text to replace, including whitespace and indentation"),
  new_string: z.string().describe("Text to put in its place"),
  replace_all: z.boolean().optional().describe("Replace every occurrence instead of requiring exactly one"),
});
export type EditInput = z.infer<typeof EditInputSchema>;

export const editTool = defineTool({
  name: "edit",
  description:
    "Replace old_string with new_string in a file. old_string must match exactly and be unique unless " +
    "replace_all is true.",
  inputSchema: EditInputSchema,
  async run(input, ctx) {
    const path = resolveToolPath(ctx.fs, input.file_path);
    if (input.old_string === "") {
      throw new TetherError("bad_request", "old_string must not be empty; use write to create or replace a whole file");
    }
    if (input.old_string === input.new_string) {
      throw new TetherError("bad_request", "old_string and new_string are identical; nothing to change");
    }
    const text = await readTextFile(ctx.fs, path);
    const matches = findOccurrences(text, input.old_string);
    if (matches.length === 0) {
      throw new TetherError(
        "bad_request",
        `old_string not found in ${path}; it must match the file exactly, including whitespace and indentation`,
      );
    }
    if (matches.length > 1 && !input.replace_all) {
      throw new TetherError(
        "bad_request",
        `old_string is not unique in ${path}: found ${matches.length} matches (lines ${formatLineList(matches)}); ` +
          "include more surrounding context to make it unique, or set replace_all to true",
      );
    }
    const updated = replaceLiteral(text, input.old_string, input.new_string);
    await writeTextFile(ctx.fs, path, updated);
    const count = matches.length === 1 ? "1 replacement" : `${matches.length} replacements`;
    const firstLine = (matches[0] ?? 1) - 1;
    const snippet = snippetAround(updated, firstLine, countNewlines(input.new_string) + 1);
    return { text: `The file ${path} has been edited (${count}). Snippet of the result:\n${snippet}` };
  },
});

import type { FsStat, IFileSystem } from "just-bash";
import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { FilePathSchema, readTextFile, resolveToolPath, statOrNull, writeTextFile } from "./files.ts";
import {
  findOccurrencesIn,
  isLargeFile,
  LARGE_EDIT_MAX_MATCHES,
  rangedFor,
  replaceAt,
  snippetAt,
  sourceOf,
} from "./large-edit.ts";
import { snippetAround } from "./line-view.ts";
import { countNewlines, findOccurrences, formatLineList, replaceLiteral } from "./replace-text.ts";
import { defineTool, type ToolOutcome } from "./tool.ts";
import { formatBytes } from "./truncate.ts";

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
    const stat = await statOrNull(ctx.fs, path);
    if (stat && isLargeFile(stat)) return editLarge(ctx.fs, path, stat, input);
    const text = await readTextFile(ctx.fs, path);
    const matches = findOccurrences(text, input.old_string);
    checkMatches(path, matches.length, matches, input.replace_all);
    const updated = replaceLiteral(text, input.old_string, input.new_string);
    await writeTextFile(ctx.fs, path, updated);
    const count = matches.length === 1 ? "1 replacement" : `${matches.length} replacements`;
    const firstLine = (matches[0] ?? 1) - 1;
    const snippet = snippetAround(updated, firstLine, countNewlines(input.new_string) + 1);
    return { text: `The file ${path} has been edited (${count}). Snippet of the result:\n${snippet}` };
  },
});

function checkMatches(path: string, count: number, lines: number[], replaceAll: boolean | undefined): void {
  if (count === 0) {
    throw new TetherError(
      "bad_request",
      `old_string not found in ${path}; it must match the file exactly, including whitespace and indentation`,
    );
  }
  if (count > 1 && !replaceAll) {
    throw new TetherError(
      "bad_request",
      `old_string is not unique in ${path}: found ${count} matches (lines ${formatLineList(lines)}); ` +
        "include more surrounding context to make it unique, or set replace_all to true",
    );
  }
}

/** The same edit on a file too large to load: found by scanning, applied by rewriting only the chunks it changes. */
async function editLarge(fs: IFileSystem, path: string, stat: FsStat, input: EditInput): Promise<ToolOutcome> {
  const ranged = rangedFor(fs, path, stat);
  const found = await findOccurrencesIn(sourceOf(ranged, path, stat.size), input.old_string);
  checkMatches(path, found.count, found.lines, input.replace_all);
  if (found.count > found.offsets.length) {
    throw new TetherError(
      "bad_request",
      `old_string occurs ${found.count} times in ${path} (${formatBytes(stat.size)}); replace_all on a file this ` +
        `large changes at most ${LARGE_EDIT_MAX_MATCHES} occurrences at once: narrow old_string`,
    );
  }
  await replaceAt(ranged, path, found.offsets, input.old_string, input.new_string);
  const size = (await fs.stat(path)).size;
  const first = found.offsets[0] ?? 0;
  const snippet = await snippetAt(
    sourceOf(ranged, path, size),
    first,
    found.lines[0] ?? 1,
    countNewlines(input.new_string) + 1,
  );
  const count = found.count === 1 ? "1 replacement" : `${found.count} replacements`;
  return { text: `The file ${path} has been edited (${count}). Snippet of the result:\n${snippet}` };
}

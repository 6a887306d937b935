import type { IFileSystem } from "just-bash";
import { TetherError } from "../../errors/tether-error.ts";
import { looksBinary, readTextFile, resolveToolPath, statOrNull, writeTextFile } from "./files.ts";
import { numberLines, selectRange, snippetAround, splitLines } from "./line-view.ts";
import { READ_MAX_BYTES } from "./read.ts";
import { countNewlines, findOccurrences, formatLineList, replaceLiteral } from "./replace-text.ts";
import type { ToolOutcome } from "./tool.ts";
import { capOutput } from "./truncate.ts";
import { walk } from "./walk.ts";

// The commands of `str_replace_based_edit_tool`, with the semantics and messages of Claude's reference
// implementation (the model has learned them), minus its quirks: tabs are kept as they are.

export async function viewPath(
  fs: IFileSystem,
  rawPath: string,
  range: number[] | undefined,
  maxCharacters: number | undefined,
): Promise<ToolOutcome> {
  const path = resolveToolPath(fs, rawPath);
  const stat = await statOrNull(fs, path);
  if (!stat) throw notFound(path);
  if (stat.isDirectory) {
    if (range) {
      throw new TetherError(
        "bad_request",
        "The `view_range` parameter is not allowed when `path` points to a directory.",
      );
    }
    return listDirectory(fs, path);
  }
  const text = await fs.readFile(path);
  if (looksBinary(text)) return { text: `${path} is a binary file; inspect it with bash (e.g. \`od -c\`)` };
  const lines = splitLines(text);
  const header = `Here's the result of running \`cat -n\` on ${path}:\n`;
  if (lines.length === 0) return { text: `${header}(the file is empty)` };
  const selected = selectRange(lines, range);
  const view = numberLines(selected.lines, selected.first, lines.length, READ_MAX_BYTES);
  if (maxCharacters !== undefined && view.text.length > maxCharacters) {
    const marker = `\n[output truncated at max_characters=${maxCharacters}; use view_range to see more]`;
    return { text: `${header}${view.text.slice(0, maxCharacters)}${marker}`, truncated: true };
  }
  return { text: header + view.text, truncated: view.truncated };
}

/** Like `find PATH -maxdepth 2 -not -path '*\/.*'`, sorted. */
async function listDirectory(fs: IFileSystem, path: string): Promise<ToolOutcome> {
  const entries: string[] = [];
  const hidden: string[] = [];
  for await (const entry of walk(fs, path, 2)) {
    const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    if (name.startsWith(".") || hidden.some((dir) => entry.path.startsWith(`${dir}/`))) {
      if (entry.isDirectory) hidden.push(entry.path);
      continue;
    }
    entries.push(entry.path);
  }
  entries.sort();
  const listing = `Here's the files and directories up to 2 levels deep in ${path}, excluding hidden items:\n${[path, ...entries].join("\n")}`;
  return capOutput(listing, READ_MAX_BYTES);
}

export async function createFile(fs: IFileSystem, rawPath: string, fileText: string): Promise<ToolOutcome> {
  const path = resolveToolPath(fs, rawPath);
  if (await statOrNull(fs, path)) {
    throw new TetherError(
      "bad_request",
      `File already exists at: ${path}. Cannot overwrite files using command \`create\`.`,
    );
  }
  await writeTextFile(fs, path, fileText);
  return { text: `File created successfully at: ${path}` };
}

export async function replaceUnique(
  fs: IFileSystem,
  rawPath: string,
  oldStr: string,
  newStr: string,
): Promise<ToolOutcome> {
  const path = resolveToolPath(fs, rawPath);
  const text = await readEditable(fs, path);
  const matches = findOccurrences(text, oldStr);
  if (matches.length === 0) {
    throw new TetherError(
      "bad_request",
      `No replacement was performed, old_str \`${oldStr}\` did not appear verbatim in ${path}.`,
    );
  }
  if (matches.length > 1) {
    throw new TetherError(
      "bad_request",
      `No replacement was performed. Multiple occurrences of old_str \`${oldStr}\` in lines [${formatLineList(matches)}]. Please ensure it is unique`,
    );
  }
  const updated = replaceLiteral(text, oldStr, newStr);
  await writeTextFile(fs, path, updated);
  const snippet = snippetAround(updated, (matches[0] ?? 1) - 1, countNewlines(newStr) + 1);
  return {
    text:
      `The file ${path} has been edited. Here's the result of running \`cat -n\` on a snippet of ${path}:\n${snippet}\n` +
      "Review the changes and make sure they are as expected. Edit the file again if necessary.",
  };
}

export async function insertLines(
  fs: IFileSystem,
  rawPath: string,
  insertLine: number,
  insertText: string,
): Promise<ToolOutcome> {
  const path = resolveToolPath(fs, rawPath);
  const text = await readEditable(fs, path);
  const lines = splitLines(text);
  if (insertLine < 0 || insertLine > lines.length) {
    throw new TetherError(
      "bad_request",
      `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the file: [0, ${lines.length}]`,
    );
  }
  // The inserted text is whole lines: a trailing newline on it ends its last line rather than adding one.
  const added = splitLines(insertText.endsWith("\n") ? insertText : `${insertText}\n`);
  const updatedLines = [...lines.slice(0, insertLine), ...added, ...lines.slice(insertLine)];
  const endsWithNewline = text === "" || text.endsWith("\n");
  const updated = updatedLines.join("\n") + (endsWithNewline ? "\n" : "");
  await writeTextFile(fs, path, updated);
  const snippet = snippetAround(updated, insertLine, Math.max(1, added.length));
  return {
    text:
      `The file ${path} has been edited. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${snippet}\n` +
      "Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
  };
}

/** Only `view` works on directories; everything else needs an existing file. */
async function readEditable(fs: IFileSystem, path: string): Promise<string> {
  const stat = await statOrNull(fs, path);
  if (!stat) throw notFound(path);
  if (stat.isDirectory) {
    throw new TetherError(
      "bad_request",
      `The path ${path} is a directory and only the \`view\` command can be used on directories`,
    );
  }
  return readTextFile(fs, path);
}

function notFound(path: string): TetherError {
  return new TetherError("not_found", `The path ${path} does not exist. Please provide a valid path.`);
}

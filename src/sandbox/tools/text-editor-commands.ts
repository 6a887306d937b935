import type { FsStat, IFileSystem } from "just-bash";
import { TetherError } from "../../errors/tether-error.ts";
import { viewFile } from "./file-view.ts";
import { readTextFile, resolveToolPath, statOrNull, writeTextFile } from "./files.ts";
import {
  findOccurrencesIn,
  isLargeFile,
  lineBoundary,
  rangedFor,
  replaceAt,
  snippetAt,
  sourceOf,
} from "./large-edit.ts";
import { snippetAround, splitLines } from "./line-view.ts";
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
  const view = await viewFile(fs, path, stat.size, range, READ_MAX_BYTES);
  if (view.kind === "binary") return { text: `${path} is a binary file; inspect it with bash (e.g. \`od -c\`)` };
  const header = `Here's the result of running \`cat -n\` on ${path}:\n`;
  if (view.kind === "empty") return { text: `${header}(the file is empty)` };
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
  const stat = await editableStat(fs, path);
  let snippet: string;
  if (isLargeFile(stat)) {
    // Too large to load: found by scanning, changed by rewriting only the chunks the edit touches.
    const ranged = rangedFor(fs, path, stat);
    const found = await findOccurrencesIn(sourceOf(ranged, path, stat.size), oldStr);
    checkUnique(path, oldStr, found.count, found.lines);
    const offset = found.offsets[0] ?? 0;
    await replaceAt(ranged, path, [offset], oldStr, newStr);
    const size = (await fs.stat(path)).size;
    snippet = await snippetAt(sourceOf(ranged, path, size), offset, found.lines[0] ?? 1, countNewlines(newStr) + 1);
  } else {
    const text = await readTextFile(fs, path);
    const matches = findOccurrences(text, oldStr);
    checkUnique(path, oldStr, matches.length, matches);
    const updated = replaceLiteral(text, oldStr, newStr);
    await writeTextFile(fs, path, updated);
    snippet = snippetAround(updated, (matches[0] ?? 1) - 1, countNewlines(newStr) + 1);
  }
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
  const stat = await editableStat(fs, path);
  // The inserted text is whole lines: a trailing newline on it ends its last line rather than adding one.
  const added = splitLines(insertText.endsWith("\n") ? insertText : `${insertText}\n`);
  let snippet: string;
  if (isLargeFile(stat)) {
    const ranged = rangedFor(fs, path, stat);
    const at = await lineBoundary(sourceOf(ranged, path, stat.size), insertLine);
    if (insertLine < 0 || at.offset === undefined) throw badInsertLine(insertLine, at.totalLines);
    // After a last line without a newline, the insert starts a line of its own and ends as the file did.
    const body = added.join("\n");
    const bytes = at.endsWithNewline || at.offset < stat.size ? `${body}\n` : `\n${body}`;
    const offset = at.offset;
    await ranged.splice(path, [{ offset, deleteLength: 0, insert: new TextEncoder().encode(bytes) }]);
    const size = (await fs.stat(path)).size;
    const shownAt = bytes.startsWith("\n") ? offset + 1 : offset;
    snippet = await snippetAt(sourceOf(ranged, path, size), shownAt, insertLine + 1, Math.max(1, added.length));
  } else {
    const text = await readTextFile(fs, path);
    const lines = splitLines(text);
    if (insertLine < 0 || insertLine > lines.length) throw badInsertLine(insertLine, lines.length);
    const updatedLines = [...lines.slice(0, insertLine), ...added, ...lines.slice(insertLine)];
    const endsWithNewline = text === "" || text.endsWith("\n");
    const updated = updatedLines.join("\n") + (endsWithNewline ? "\n" : "");
    await writeTextFile(fs, path, updated);
    snippet = snippetAround(updated, insertLine, Math.max(1, added.length));
  }
  return {
    text:
      `The file ${path} has been edited. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${snippet}\n` +
      "Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
  };
}

/** Only `view` works on directories; everything else needs an existing file. */
async function editableStat(fs: IFileSystem, path: string): Promise<FsStat> {
  const stat = await statOrNull(fs, path);
  if (!stat) throw notFound(path);
  if (stat.isDirectory) {
    throw new TetherError(
      "bad_request",
      `The path ${path} is a directory and only the \`view\` command can be used on directories`,
    );
  }
  return stat;
}

function checkUnique(path: string, oldStr: string, count: number, lines: number[]): void {
  if (count === 0) {
    throw new TetherError(
      "bad_request",
      `No replacement was performed, old_str \`${oldStr}\` did not appear verbatim in ${path}.`,
    );
  }
  if (count > 1) {
    throw new TetherError(
      "bad_request",
      `No replacement was performed. Multiple occurrences of old_str \`${oldStr}\` in lines [${formatLineList(lines)}]. Please ensure it is unique`,
    );
  }
}

function badInsertLine(insertLine: number, lines: number): TetherError {
  return new TetherError(
    "bad_request",
    `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the file: [0, ${lines}]`,
  );
}

function notFound(path: string): TetherError {
  return new TetherError("not_found", `The path ${path} does not exist. Please provide a valid path.`);
}

/**
 * `glob` as the reference runner answers it: a relative pattern (absolute ones and `..` are
 * refused) matched against the regular files under the search root, `.git` and `node_modules`
 * skipped, at most 200 absolute paths, newest modification first, else `no matches`.
 *
 * The files and their mtimes come from the sandbox's filesystem in one index scan
 * (src/sandbox/fs/file-listing.ts), are matched with the sandbox's linear-time glob matcher, and
 * sorted: newest first, equal mtimes by path (code-unit order), so the answer is the same on every
 * run. mtimes are whole milliseconds, and files written in one burst often share one: in a Worker
 * the clock only moves at I/O, so a loop of writes can stamp several files with the same time.
 * (That, with `touch -d @N` being refused by the shell's touch at the time, is why a test of this
 * ordering once saw f50 where f51 belonged: the files kept their creation times, two of them
 * equal, and the tie went to the name.) Patterns follow the sandbox's matcher, in which `*` also
 * matches names starting with a dot (the reference's Node glob may not): showing a dotfile is the
 * safer mistake than hiding one. Symlinks are not regular files here, as in the reference (its
 * directory entries are not followed), so a link cannot lead the listing out of the roots.
 */

import type { ListedFile } from "../../sandbox/fs/file-listing.ts";
import { isFsError } from "../../sandbox/fs/fs-errors.ts";
import { compileGlob } from "../../sandbox/regex/glob-regex.ts";
import type { ToolsetContext } from "./context.ts";
import { resolveInRoots, WORKDIR } from "./paths.ts";
import { ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { GlobInput } from "./schemas.ts";

export const GLOB_RESULT_LIMIT = 200;
export const NO_MATCHES = "no matches";
/** Directories the reference's walker does not enter. */
export const SKIPPED_DIRS = [".git", "node_modules"] as const;
/**
 * Files one glob considers at most: their paths are held in the object's memory to be sorted.
 * Past this the call is refused with a pointer to a narrower `path` rather than answered from part
 * of the tree (which could leave out the newest files).
 */
export const GLOB_SCAN_LIMIT = 200_000;

export async function runGlob(ctx: ToolsetContext, input: GlobInput): Promise<ToolsetResult> {
  if (input.pattern.startsWith("/")) throw new ToolsetError("glob", "absolute pattern not permitted");
  if (input.pattern.split(/[\\/]/).includes("..")) {
    throw new ToolsetError("glob", '".." is not permitted in the pattern');
  }
  let matcher: { test(path: string): boolean };
  try {
    matcher = compileGlob(input.pattern);
  } catch (error) {
    throw new ToolsetError("glob", error instanceof Error ? error.message : String(error));
  }
  const shown = input.path ?? WORKDIR;
  const root = input.path ? resolveInRoots(ctx, "glob", input.path) : WORKDIR;
  let listing: ReturnType<ToolsetContext["fs"]["listFiles"]>;
  try {
    listing = ctx.fs.listFiles(root, { limit: GLOB_SCAN_LIMIT, skipDirs: SKIPPED_DIRS });
  } catch (error) {
    if (isFsError(error, "ENOTDIR")) throw new ToolsetError("glob", `${shown}: not a directory`);
    if (isFsError(error, "ENOENT")) throw new ToolsetError("glob", `${shown}: no such file or directory`);
    throw error;
  }
  if (!listing.complete) {
    throw new ToolsetError("glob", `more than ${GLOB_SCAN_LIMIT} files under ${shown}; give a narrower path`);
  }
  const prefix = listing.root === "/" ? 1 : listing.root.length + 1;
  const matches = listing.files.filter((file) => matcher.test(file.path.slice(prefix)));
  if (matches.length === 0) return textResult(NO_MATCHES);
  return textResult(
    newestFirst(matches)
      .slice(0, GLOB_RESULT_LIMIT)
      .map((match) => match.path)
      .join("\n"),
  );
}

/** Newest mtime first; equal mtimes in path order, so the order never depends on how rows came back. */
export function newestFirst(files: ListedFile[]): ListedFile[] {
  return files.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

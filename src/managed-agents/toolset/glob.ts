/**
 * `glob` as the reference runner answers it: a relative pattern (absolute ones and `..` are
 * refused) matched against the regular files under the search root, `.git` and `node_modules`
 * skipped, at most 200 absolute paths, newest modification first, else `no matches`.
 *
 * The sandbox's own glob lists paths in name order and keeps the first 200 of those, which cannot
 * give the newest 200. So the files and their mtimes are listed by the sandbox's `find`, captured
 * whole (scratch-output.ts: any number of them, past the sandbox's answer cap), matched here with the sandbox's
 * linear-time glob matcher, and sorted. Equal mtimes fall back to name order so the answer is
 * stable. Patterns follow the sandbox's matcher, in which `*` also matches names starting with a dot
 * (the reference's Node glob may not): showing a dotfile is the safer mistake than hiding one.
 * Symlinks are not regular files here, as in the reference (its directory entries are not
 * followed), so a link cannot lead the listing out of the workdir.
 */
import { compileGlob } from "../../sandbox/regex/glob-regex.ts";
import { resolveInWorkdir, WORKDIR } from "./paths.ts";
import { ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { ToolsetSandbox } from "./sandbox-target.ts";
import type { GlobInput } from "./schemas.ts";
import { runCaptured } from "./scratch-output.ts";
import { shellQuote } from "./shell-quote.ts";

export const GLOB_RESULT_LIMIT = 200;
export const NO_MATCHES = "no matches";

export async function runGlob(sandbox: ToolsetSandbox, input: GlobInput): Promise<ToolsetResult> {
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
  const root = input.path ? await resolveInWorkdir(sandbox, "glob", input.path) : WORKDIR;
  const files = await listFiles(sandbox, root, input.path ?? WORKDIR);
  const prefix = root === "/" ? 1 : root.length + 1;
  const matches = files.filter((file) => matcher.test(file.path.slice(prefix)));
  if (matches.length === 0) return textResult(NO_MATCHES);
  matches.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return textResult(
    matches
      .slice(0, GLOB_RESULT_LIMIT)
      .map((match) => match.path)
      .join("\n"),
  );
}

interface ListedFile {
  path: string;
  /** Seconds since the epoch, with fractions. */
  mtime: number;
}

/** Regular files under `root` (which must be a directory) with their mtimes. */
async function listFiles(sandbox: ToolsetSandbox, root: string, shown: string): Promise<ListedFile[]> {
  const quoted = shellQuote(root);
  const fragment =
    `[ -d ${quoted} ] || exit 3; find ${quoted} -mindepth 1 \\( -name .git -o -name node_modules \\) -prune ` +
    "-o -type f -printf '%T@\\t%p\\n'";
  const run = await runCaptured(sandbox, fragment, { maxBytes: Number.POSITIVE_INFINITY });
  if (run.result.exitCode === 3) throw new ToolsetError("glob", `${shown}: not a directory`);
  if (run.result.isError || !run.ran) throw new ToolsetError("glob", run.output);
  const files: ListedFile[] = [];
  for (const line of run.output.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab <= 0) continue;
    files.push({ mtime: Number(line.slice(0, tab)), path: line.slice(tab + 1) });
  }
  return files;
}

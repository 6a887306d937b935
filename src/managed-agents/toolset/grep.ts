/**
 * `grep` as the reference runner answers it: `path:line:text` for each matching line (absolute
 * paths), lines over 2000 characters skipped, `.git` and `node_modules` skipped, at most 100 KiB
 * followed by `[output truncated at 102400 bytes]`, else `no matches`.
 *
 * The sandbox's own grep tool does the search, called in the object (a linear-time engine, binary
 * files skipped, files read a chunk at a time), in the same `path:line:text` form; this layer drops what the reference would
 * not show: lines the sandbox cut at 2000 characters (they were longer), matches under `.git` or
 * `node_modules`, and the sandbox's own texts for no match and truncation. The sandbox stops at
 * 100 KiB before those drops, so when long lines are dropped the answer can stop a little earlier
 * than the reference's; it then still ends with the truncation marker.
 *
 * A search path that does not exist is an error here (`P: no such file or directory`): ripgrep
 * fails on it too, and an agent should not read "no matches" as "the directory is empty".
 */
import { GREP_MAX_LINE_CHARS, grepTool } from "../../sandbox/tools/grep.ts";
import { byteLength } from "../../sandbox/tools/truncate.ts";
import type { ToolsetContext } from "./context.ts";
import { NO_MATCHES } from "./glob.ts";
import { isWithin, resolveInRoots, WORKDIR } from "./paths.ts";
import { ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { GrepInput } from "./schemas.ts";

export const GREP_OUTPUT_LIMIT = 100 * 1024;
export const GREP_TRUNCATED_MARKER = `[output truncated at ${GREP_OUTPUT_LIMIT} bytes]`;

/** The sandbox's mark on a line it cut: what follows the first 2000 characters. */
const CUT_MARK = `… [line cut at ${GREP_MAX_LINE_CHARS} characters]`;

export async function runGrep(ctx: ToolsetContext, input: GrepInput): Promise<ToolsetResult> {
  const root = input.path ? resolveInRoots(ctx, "grep", input.path) : WORKDIR;
  const result = await grepTool.call({ pattern: input.pattern, path: root }, ctx.tools);
  if (result.isError) {
    if (result.errorKind === "not_found") {
      throw new ToolsetError("grep", `${input.path ?? WORKDIR}: no such file or directory`);
    }
    throw new ToolsetError("grep", result.text);
  }
  if (result.text.startsWith("No matches for ")) return textResult(NO_MATCHES);
  const kept: string[] = [];
  let budget = GREP_OUTPUT_LIMIT;
  let truncated = false;
  for (const line of result.text.split("\n")) {
    if (line.startsWith("[output truncated at ")) {
      truncated = true;
      break;
    }
    if (isCutLine(line) || inSkippedDir(root, line)) continue;
    budget -= byteLength(line) + 1;
    if (budget < 0) {
      truncated = true;
      break;
    }
    kept.push(line);
  }
  if (truncated) kept.push(GREP_TRUNCATED_MARKER);
  return textResult(kept.length === 0 ? NO_MATCHES : kept.join("\n"));
}

/**
 * A match the sandbox cut: the first 2000 characters of its text and the mark (a line of its own
 * that happens to end with the mark would also have to be 2000 characters long with its prefix).
 */
function isCutLine(line: string): boolean {
  return line.endsWith(CUT_MARK) && line.length - CUT_MARK.length >= GREP_MAX_LINE_CHARS;
}

/** A match in a file under `.git` or `node_modules` below the search root. */
function inSkippedDir(root: string, line: string): boolean {
  const path = line.slice(0, line.indexOf(":"));
  if (!isWithin(root, path)) return false;
  const below = path.slice(root.length);
  return /\/(\.git|node_modules)\//.test(below);
}

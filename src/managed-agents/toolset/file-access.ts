/**
 * Opening and writing files for read, write and edit, on the sandbox's filesystem directly, with
 * the reference runner's refusals: its wording for a missing path, a directory, a path below a
 * file, and its 256 KiB cap on what read and edit load.
 */
import { isTetherError } from "../../errors/tether-error.ts";
import { isFsError } from "../../sandbox/fs/fs-errors.ts";
import type { ToolsetContext } from "./context.ts";
import { resolveInRoots } from "./paths.ts";
import { ToolsetError } from "./result.ts";

/** The reference's cap on the files read and edit load whole. */
export const MAX_FILE_BYTES = 256 * 1024;

const decoder = new TextDecoder();

/**
 * A regular file's text and its physical path. `shown` is the path as the agent gave it (the
 * reference's messages name it that way); `hint` says how to handle a file over the cap. The path
 * is confined before anything is read.
 */
export async function loadTextFile(
  ctx: ToolsetContext,
  tool: string,
  shown: string,
  hint: string,
): Promise<{ path: string; text: string }> {
  const path = resolveInRoots(ctx, tool, shown);
  try {
    const stat = await ctx.fs.stat(path);
    if (!stat.isFile) throw new ToolsetError(tool, `${shown} is not a regular file`);
    if (stat.size > MAX_FILE_BYTES) {
      throw new ToolsetError(tool, `${shown} is ${stat.size} bytes, exceeds ${MAX_FILE_BYTES}-byte limit. ${hint}`);
    }
    return { path, text: decoder.decode(await ctx.fs.readFileBuffer(path)) };
  } catch (error) {
    throw asToolsetError(tool, shown, error);
  }
}

/**
 * Writes the file (parents created; the content replaced in one transaction, so a refused write
 * leaves the old content) and answers its size in UTF-8 bytes. `path` comes from resolveInRoots.
 */
export async function storeTextFile(
  ctx: ToolsetContext,
  tool: string,
  path: string,
  shown: string,
  text: string,
): Promise<number> {
  const bytes = new TextEncoder().encode(text);
  try {
    await ctx.fs.writeFile(path, bytes);
  } catch (error) {
    throw asToolsetError(tool, shown, error);
  }
  return bytes.byteLength;
}

/**
 * A filesystem refusal (an errno-style error, or the quota's TetherError) in the reference's words
 * (`P: no such file or directory`, …); other errors pass.
 */
function asToolsetError(tool: string, shown: string, error: unknown): unknown {
  if (error instanceof ToolsetError || !(isFsError(error) || isTetherError(error))) return error;
  return new ToolsetError(tool, `${shown}: ${describe(error)}`);
}

function describe(error: { code: string; message: string }): string {
  switch (error.code) {
    case "ENOENT":
      return "no such file or directory";
    case "ENOTDIR":
    // Creating the parents met a file where a directory belongs.
    case "EEXIST":
      return "not a directory";
    case "EISDIR":
      // The reference says "not a regular file" where it stats first (read, edit), EISDIR where it writes.
      return "is a directory";
    default:
      // The quota, a name too long, …: the filesystem's own description, without its op and path.
      return error.message.replace(/^[A-Z]+: /, "").replace(/, [a-z]+ '.*'$/s, "");
  }
}

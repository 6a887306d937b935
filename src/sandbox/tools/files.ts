import type { FsStat, IFileSystem } from "just-bash";
import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { WORKDIR } from "./context.ts";

/** A path argument as Claude sends it: absolute, or relative to the working directory. */
export const PathSchema = z.string().min(1, "must not be empty");

/** The file a tool works on, described to Claude the same way by every tool. */
export const FilePathSchema = PathSchema.describe("Absolute path, or relative to /workspace");

/** Absolute, normalised form of a tool's path argument (relative paths start at /workspace). */
export function resolveToolPath(fs: IFileSystem, path: string): string {
  return fs.resolvePath(WORKDIR, path);
}

/**
 * The entry at `path` (following symlinks), or null when nothing is there. One stat, not `exists`
 * then `stat`: each is a lookup in SQLite, and every file tool starts here. A failing stat means
 * exactly what `exists` answering false would (it, too, treats any failure as "not there").
 */
export async function statOrNull(fs: IFileSystem, path: string): Promise<FsStat | null> {
  try {
    return await fs.stat(path);
  } catch {
    return null;
  }
}

/** Reads a file as UTF-8, refusing clearly when the path is missing or a directory. */
export async function readTextFile(fs: IFileSystem, path: string): Promise<string> {
  const stat = await statOrNull(fs, path);
  if (!stat) throw new TetherError("not_found", `file not found: ${path}`);
  if (stat.isDirectory) throw new TetherError("bad_request", `${path} is a directory, not a file`);
  return fs.readFile(path);
}

/** Writes a file, creating missing parent directories first (like `mkdir -p`). */
export async function writeTextFile(fs: IFileSystem, path: string, content: string): Promise<void> {
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  const parentStat = await statOrNull(fs, parent);
  if (!parentStat) await fs.mkdir(parent, { recursive: true });
  else if (!parentStat.isDirectory) throw new TetherError("bad_request", `cannot write ${path}: ${parent} is a file`);
  await fs.writeFile(path, content);
}

/** Text that contains NUL is treated as binary: numbering or grepping it would only produce noise. */
export function looksBinary(text: string): boolean {
  return text.slice(0, 8192).includes("\u0000");
}

/**
 * A sandbox directory as the console lists it: its immediate subdirectories (with how many files
 * and bytes are below each) and files, built from the sandbox's recursive file list.
 */
import { formatBytes } from "../../../src/console/format.ts";

export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface DirectoryListing {
  dirs: Array<{ path: string; name: string; files: number; bytes: number }>;
  files: Array<FileEntry & { name: string }>;
}

/** `/a/b/` and `/a/b` are the same directory; the root stays `/`. */
export function normalDir(dir: string): string {
  const trimmed = dir.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

export function parentDir(dir: string): string | null {
  if (dir === "/") return null;
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  return parent === "" ? "/" : parent;
}

export function listDirectory(dir: string, files: FileEntry[]): DirectoryListing {
  const prefix = dir === "/" ? "/" : `${dir}/`;
  const dirs = new Map<string, { path: string; name: string; files: number; bytes: number }>();
  const direct: DirectoryListing["files"] = [];
  for (const file of files) {
    if (!file.path.startsWith(prefix)) continue;
    const rest = file.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash === -1) {
      direct.push({ ...file, name: rest });
      continue;
    }
    const name = rest.slice(0, slash);
    const entry = dirs.get(name) ?? { path: `${prefix}${name}`, name, files: 0, bytes: 0 };
    entry.files++;
    entry.bytes += file.size;
    dirs.set(name, entry);
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { dirs: [...dirs.values()].sort(byName), files: direct.sort(byName) };
}

export function dirSummary(entry: { files: number; bytes: number }): string {
  return `${entry.files} file${entry.files === 1 ? "" : "s"}, ${formatBytes(entry.bytes)}`;
}

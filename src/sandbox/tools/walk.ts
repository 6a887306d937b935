import type { IFileSystem } from "just-bash";

type DirentEntry = Awaited<ReturnType<NonNullable<IFileSystem["readdirWithFileTypes"]>>>[number];

export interface WalkEntry {
  /** Absolute path. */
  path: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  /** 1 for the root's direct children. */
  depth: number;
}

export function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/**
 * Walks a directory tree depth-first in name order, never following symlinks (so a link cannot loop
 * the walk or lead it out of the tree). Uses readdirWithFileTypes when the filesystem has it: one
 * call per directory instead of one stat per entry.
 */
export async function* walk(
  fs: IFileSystem,
  root: string,
  maxDepth = Number.POSITIVE_INFINITY,
): AsyncGenerator<WalkEntry> {
  const stack: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  while (stack.length > 0) {
    const { dir, depth } = stack.pop()!;
    const entries = (await listDir(fs, dir)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: { dir: string; depth: number }[] = [];
    for (const entry of entries) {
      const path = joinPath(dir, entry.name);
      yield {
        path,
        isFile: entry.isFile,
        isDirectory: entry.isDirectory,
        isSymbolicLink: entry.isSymbolicLink,
        depth: depth + 1,
      };
      if (entry.isDirectory && !entry.isSymbolicLink && depth + 1 < maxDepth)
        subdirs.push({ dir: path, depth: depth + 1 });
    }
    // Reversed so the stack pops them in name order.
    stack.push(...subdirs.reverse());
  }
}

async function listDir(fs: IFileSystem, dir: string): Promise<DirentEntry[]> {
  if (fs.readdirWithFileTypes) return fs.readdirWithFileTypes(dir);
  const names = await fs.readdir(dir);
  return Promise.all(
    names.map(async (name) => {
      const stat = await fs.lstat(joinPath(dir, name));
      return { name, isFile: stat.isFile, isDirectory: stat.isDirectory, isSymbolicLink: stat.isSymbolicLink };
    }),
  );
}

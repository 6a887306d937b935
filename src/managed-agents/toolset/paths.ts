/**
 * Where a toolset path points. The reference runner resolves a path against its workdir (absolute
 * paths too), follows symlinks, and refuses anything that ends up outside the workdir and the
 * memory-store mounts (protocol §5). Tether's workdir is the sandbox's /workspace; the mounts are
 * the call's extra roots.
 *
 * The path is checked twice: as written (`..` normalised away), then where the sandbox's
 * filesystem says it leads once every symlink on the way is followed, the last one too (a
 * dangling link is followed to where its target would be created). Both must lie in a root, so a
 * link inside /workspace pointing at /etc is refused before anything of it is read or written.
 */
import { isFsError } from "../../sandbox/fs/fs-errors.ts";
import { isSameOrDescendant, resolvePath } from "../../sandbox/fs/paths.ts";
import { WORKDIR } from "../../sandbox/tools/context.ts";
import type { ToolsetContext } from "./context.ts";
import { ToolsetError } from "./result.ts";

export { WORKDIR };

/** `path` made absolute against `base` and normalised (`.`, `..`, repeated slashes), without touching the filesystem. */
export function lexicalResolve(base: string, path: string): string {
  return resolvePath(base, path);
}

export function isWithin(root: string, path: string): boolean {
  return isSameOrDescendant(root, path);
}

function outside(ctx: ToolsetContext, tool: string, path: string): ToolsetError {
  const [, ...mounts] = ctx.roots;
  const also = mounts.length > 0 ? ` and the memory mounts ${mounts.join(", ")}` : "";
  return new ToolsetError(tool, `path ${JSON.stringify(path)} is outside the workdir ${WORKDIR}${also}`);
}

/**
 * The physical absolute path a tool works on, or a ToolsetError when it lies outside every root
 * (before or after following symlinks). `shown` is the path as the agent gave it.
 */
export function resolveInRoots(ctx: ToolsetContext, tool: string, shown: string): string {
  const lexical = lexicalResolve(WORKDIR, shown);
  const within = (path: string) => ctx.roots.some((root) => isWithin(root, path));
  if (!within(lexical)) throw outside(ctx, tool, shown);
  let physical: string;
  try {
    physical = ctx.fs.physicalPath(lexical);
  } catch (error) {
    // A symlink loop, a name too long: the filesystem's own words, after the tool's name.
    if (isFsError(error)) throw new ToolsetError(tool, `${shown}: ${error.message}`);
    throw error;
  }
  if (!within(physical)) throw outside(ctx, tool, shown);
  return physical;
}

/**
 * Confinement of one sandbox's file access to its workspace directory on the executor's machine.
 *
 * Two spellings name the same place: the sandbox's own `/workspace/...` (what tools and the files
 * API use, as at the edge) and the real directory's absolute path (what a shell without isolation
 * sees, so paths it prints work when given back to a file tool). Every other path is refused.
 *
 * Symlinks are resolved here, one path segment at a time, at the moment of each operation (never
 * cached): the operation is then handed the fully resolved real path, which contains no symlink
 * (except the last segment when the operation must not follow it) and no `..`, so the kernel walks
 * exactly the directories checked here. A link pointing outside the workspace, or a `..` climbing
 * above it, is refused whether it exists yet or dangles.
 */
import { lstat, readlink } from "node:fs/promises";
import { type FsError, fsError } from "../../sandbox/fs/fs-errors.ts";
import { MAX_SYMLINK_HOPS, normalizePath } from "../../sandbox/fs/paths.ts";
import { WORKDIR } from "../../sandbox/tools/context.ts";

export { WORKDIR };

export function outsideWorkspace(op: string, path: string): FsError {
  return fsError("EPERM", op, path, `operation not permitted outside the sandbox's workspace ${WORKDIR}`);
}

/**
 * The path below the workspace that `path` names (segments, empty for the workspace itself), or
 * null when it names something outside. `root` is the workspace's real path (no symlinks).
 */
export function workspaceSegments(root: string, path: string): string[] | null {
  const normal = normalizePath(path);
  for (const prefix of [WORKDIR, root]) {
    if (normal === prefix) return [];
    if (normal.startsWith(`${prefix}/`)) return normal.slice(prefix.length + 1).split("/");
  }
  return null;
}

/** The sandbox's spelling of a real path inside the workspace (`root` itself is `/workspace`). */
export function toSandboxPath(root: string, real: string): string {
  if (real === root) return WORKDIR;
  return real.startsWith(`${root}/`) ? `${WORKDIR}${real.slice(root.length)}` : real;
}

/**
 * The real path `path` stands for, with every symlink on the way resolved and checked (the last
 * segment's too when `follow`). Refuses (EPERM) anything that leads outside `root`, ELOOP after
 * too many links. Segments that do not exist yet are appended as they are: the operation itself
 * then reports ENOENT, or creates them (they hold no link to follow).
 */
export async function resolveInWorkspace(root: string, path: string, op: string, follow: boolean): Promise<string> {
  const start = workspaceSegments(root, path);
  if (start === null) throw outsideWorkspace(op, path);
  // Below root: the resolved segments so far (root itself is trusted, the executor made it).
  const done: string[] = [];
  const queue = [...start];
  let hops = 0;
  while (queue.length > 0) {
    const segment = queue.shift() as string;
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (done.length === 0) throw outsideWorkspace(op, path);
      done.pop();
      continue;
    }
    const next = `${root}/${[...done, segment].join("/")}`;
    if (queue.length === 0 && !follow) {
      done.push(segment);
      break;
    }
    const kind = await entryKind(next);
    if (kind !== "symlink") {
      done.push(segment);
      // Nothing below a missing entry can be a link: the rest is taken as written.
      if (kind === "missing") {
        done.push(...queue.filter((s) => s !== "" && s !== "."));
        if (queue.includes("..")) throw outsideOrMissing(op, path);
        break;
      }
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw fsError("ELOOP", op, path);
    const target = await readlink(next);
    if (target.startsWith("/")) {
      const inside = workspaceSegments(root, target);
      if (inside === null) throw outsideWorkspace(op, path);
      done.length = 0;
      queue.unshift(...inside);
    } else {
      queue.unshift(...target.split("/"));
    }
  }
  return done.length === 0 ? root : `${root}/${done.join("/")}`;
}

/** `..` below a missing directory: the kernel would fail with ENOENT; so do we, before it walks. */
function outsideOrMissing(op: string, path: string): FsError {
  return fsError("ENOENT", op, path);
}

async function entryKind(real: string): Promise<"symlink" | "missing" | "other"> {
  try {
    return (await lstat(real)).isSymbolicLink() ? "symlink" : "other";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw error;
  }
}

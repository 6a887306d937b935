/**
 * Path arithmetic for the sandbox filesystem. Every path the filesystem stores is absolute and
 * normalised: it starts with `/`, has no `.`/`..`/empty segments and no trailing slash. `..` at the
 * root stays at the root, so no spelling of a path can name anything above the sandbox's own `/`.
 * The rules match just-bash's own path utilities, so both sides agree on what a path means.
 */
import { byteLength } from "./encoding.ts";
import { fsError } from "./fs-errors.ts";

/** Most symlinks followed while resolving one path; one more is ELOOP (Linux uses 40 too). */
export const MAX_SYMLINK_HOPS = 40;

export function normalizePath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`;
}

/** Parent directory of a normalised path; the root is its own parent. */
export function dirname(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** Resolves `path` against the directory `base` (absolute paths ignore the base). */
export function resolvePath(base: string, path: string): string {
  return normalizePath(path.startsWith("/") ? path : `${base}/${path}`);
}

/** Where a symlink at `linkPath` points: absolute targets are taken from the sandbox's root. */
export function resolveSymlinkTarget(linkPath: string, target: string): string {
  return resolvePath(dirname(linkPath), target);
}

/** True when `candidate` is `parent` itself or lies below it. */
export function isSameOrDescendant(parent: string, candidate: string): boolean {
  return parent === "/" || candidate === parent || candidate.startsWith(`${parent}/`);
}

/** The segments of a normalised path (`/` has none). */
export function segments(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

/** Longest name of one entry, in UTF-8 bytes (Linux's NAME_MAX). */
export const MAX_NAME_BYTES = 255;
/** Longest path, in UTF-8 bytes (Linux's PATH_MAX, less its terminating NUL). */
export const MAX_PATH_BYTES = 4095;

/**
 * Rejects NUL bytes, which could cut a name short in layers below, and names and paths longer than
 * Linux allows (ENAMETOOLONG): every stored name costs quota, and none can be longer than a real
 * filesystem would keep.
 */
export function validatePath(path: string, op: string): void {
  if (path.includes("\0")) throw fsError("ENOENT", op, path, "path contains null byte");
  if (path.length <= MAX_NAME_BYTES / 3) return; // no segment (nor the path) can be too long
  const shown = path.length > 200 ? `${path.slice(0, 100)}…${path.slice(-60)}` : path;
  if (byteLength(path) > MAX_PATH_BYTES)
    throw fsError("ENAMETOOLONG", op, shown, `path longer than ${MAX_PATH_BYTES} bytes`);
  for (const segment of path.split("/")) {
    if (byteLength(segment) > MAX_NAME_BYTES) {
      throw fsError("ENAMETOOLONG", op, shown, `file name longer than ${MAX_NAME_BYTES} bytes`);
    }
  }
}

/**
 * Upper bound (exclusive) of the descendants of `dir` in byte order: every descendant path starts
 * with `dir/`, and `0` is the character right after `/`. Used for index range scans.
 */
export function descendantRange(dir: string): { from: string; to: string } {
  return dir === "/" ? { from: "/", to: "0" } : { from: `${dir}/`, to: `${dir}0` };
}

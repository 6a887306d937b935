/**
 * Where a toolset path points. The reference runner resolves a path against its workdir (absolute
 * paths too), follows symlinks, and refuses anything that ends up outside the workdir. Tether's
 * workdir is the sandbox's /workspace.
 *
 * Symlinks are resolved by the sandbox's own `realpath` (run through its bash tool, since the
 * sandbox's RPC surface has no stat): the longest existing ancestor is resolved and the rest
 * appended, so a path about to be created resolves too. A dangling symlink as the last component
 * is taken as it stands (its target does not exist to be resolved): in a Tether sandbox the whole
 * filesystem is the sandbox's own, so following it can only reach the sandbox's own files.
 */
import { WORKDIR } from "../../sandbox/tools/context.ts";
import { ToolsetError } from "./result.ts";
import type { ToolsetSandbox } from "./sandbox-target.ts";
import { shellQuote } from "./shell-quote.ts";

export { WORKDIR };

/** `path` made absolute against `base` and normalised (`.`, `..`, repeated slashes), without touching the sandbox. */
export function lexicalResolve(base: string, path: string): string {
  const parts: string[] = [];
  for (const part of `${path.startsWith("/") ? "" : `${base}/`}${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

export function isWithin(root: string, path: string): boolean {
  return path === root || path.startsWith(root === "/" ? "/" : `${root}/`);
}

function outside(tool: string, path: string): ToolsetError {
  return new ToolsetError(tool, `path ${JSON.stringify(path)} is outside the workdir ${WORKDIR}`);
}

/**
 * The canonical absolute path a tool works on, or a ToolsetError when it lies outside the workdir
 * (before or after following symlinks). One sandbox call resolves it.
 */
export async function resolveInWorkdir(sandbox: ToolsetSandbox, tool: string, path: string): Promise<string> {
  return confirmInWorkdir(sandbox, tool, path, lexicalInWorkdir(tool, path));
}

/** `path` resolved against the workdir without following symlinks; refused when that is already outside. */
export function lexicalInWorkdir(tool: string, path: string): string {
  const lexical = lexicalResolve(WORKDIR, path);
  if (!isWithin(WORKDIR, lexical)) throw outside(tool, path);
  return lexical;
}

/** The real path of `lexical` (from lexicalInWorkdir) once symlinks are followed, refused when outside. */
export async function confirmInWorkdir(
  sandbox: ToolsetSandbox,
  tool: string,
  shown: string,
  lexical: string,
): Promise<string> {
  const real = await realpathOf(sandbox, lexical);
  if (!isWithin(WORKDIR, real)) throw outside(tool, shown);
  return real;
}

/** Ancestors of `path` from itself up to `/`. */
function ancestors(path: string): string[] {
  const out = [path];
  for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) out.push(path.slice(0, at));
  if (path !== "/") out.push("/");
  return out;
}

/**
 * Resolves the longest existing ancestor with `realpath -e` and appends the rest. The script prints
 * the ancestor it resolved and its real path, each on a line; nothing when none resolves (then the
 * lexical path stands).
 */
async function realpathOf(sandbox: ToolsetSandbox, path: string): Promise<string> {
  const candidates = ancestors(path).map(shellQuote).join(" ");
  const script =
    `for p in ${candidates}; do if r=$(realpath -e "$p" 2>/dev/null); then ` +
    `printf '%s\\n%s\\n' "$p" "$r"; break; fi; done`;
  const result = await sandbox.runTool("bash", { command: script });
  const [found, real] = result.text.split("\n");
  if (result.isError || found === undefined || real === undefined || !real.startsWith("/")) return path;
  const rest = found === "/" ? path : path.slice(found.length);
  return real === "/" ? rest : `${real}${rest}`;
}

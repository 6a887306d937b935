/**
 * `realpath`, which just-bash lacks: the canonical path with symlinks resolved (inside the
 * sandbox). By default every component but the last must exist; -e requires all, -m none;
 * -s leaves symlinks alone.
 */
import { type Command, defineCommand } from "just-bash";

export const realpathCommand: Command = defineCommand("realpath", async (args, ctx) => {
  let mode: "last-may-miss" | "all-exist" | "none-exist" = "last-may-miss";
  let followLinks = true;
  let quiet = false;
  const paths: string[] = [];
  for (const arg of args) {
    if (arg === "-e" || arg === "--canonicalize-existing") mode = "all-exist";
    else if (arg === "-m" || arg === "--canonicalize-missing") mode = "none-exist";
    else if (arg === "-s" || arg === "--strip" || arg === "--no-symlinks") followLinks = false;
    else if (arg === "-q" || arg === "--quiet") quiet = true;
    else if (arg.startsWith("-") && arg !== "-")
      return { stdout: "", stderr: `realpath: unrecognized option '${arg}'\n`, exitCode: 1 };
    else paths.push(arg);
  }
  if (paths.length === 0) return { stdout: "", stderr: "realpath: missing operand\n", exitCode: 1 };
  let stdout = "";
  let stderr = "";
  for (const path of paths) {
    const absolute = ctx.fs.resolvePath(ctx.cwd, path);
    if (!followLinks || mode === "none-exist") {
      stdout += `${absolute}\n`;
      continue;
    }
    try {
      stdout += `${await ctx.fs.realpath(absolute)}\n`;
      continue;
    } catch {
      // missing: maybe only its last component
    }
    const slash = absolute.lastIndexOf("/");
    const parent = slash <= 0 ? "/" : absolute.slice(0, slash);
    const resolvedParent = mode === "last-may-miss" ? await ctx.fs.realpath(parent).catch(() => null) : null;
    if (resolvedParent === null) {
      if (!quiet) stderr += `realpath: ${path}: No such file or directory\n`;
      continue;
    }
    stdout += `${resolvedParent === "/" ? "" : resolvedParent}/${absolute.slice(slash + 1)}\n`;
  }
  return { stdout, stderr, exitCode: stderr || (quiet && stdout.split("\n").length - 1 < paths.length) ? 1 : 0 };
});

/**
 * `ls` with several operands laid out as GNU ls does: the file operands first, together, then each
 * directory under a `dir:` header, sections separated by one blank line. just-bash lists operands
 * in the order given with blank lines between files. One operand and -R go to just-bash's ls.
 */
import { type Command, defineCommand } from "just-bash";
import { hasFlag, original } from "./command-io.ts";

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const lsCommand: Command = defineCommand("ls", async (args, ctx) => {
  const end = args.indexOf("--");
  const flags = args.filter((arg, i) => arg.startsWith("-") && arg !== "-" && (end < 0 || i < end));
  const operands = args.filter((arg, i) => (!arg.startsWith("-") || arg === "-") && i !== end);
  if (operands.length <= 1 || hasFlag(flags, "R", "--recursive")) return original(ctx, args);
  const directoriesAsFiles = hasFlag(flags, "d", "--directory");
  const files: string[] = [];
  const dirs: string[] = [];
  let stderr = "";
  let exitCode = 0;
  for (const operand of operands) {
    try {
      const stat = await ctx.fs.stat(ctx.fs.resolvePath(ctx.cwd, operand));
      (stat.isDirectory && !directoriesAsFiles ? dirs : files).push(operand);
    } catch {
      const missing = await original(ctx, [...flags, operand]);
      stderr += missing.stderr;
      exitCode = Math.max(exitCode, missing.exitCode);
    }
  }
  const keepOrder = hasFlag(flags, "t") || hasFlag(flags, "S") || hasFlag(flags, "U") || hasFlag(flags, "f");
  if (!keepOrder) {
    const reverse = hasFlag(flags, "r", "--reverse");
    for (const list of [files, dirs]) {
      list.sort(byName);
      if (reverse) list.reverse();
    }
  }
  const sections: string[] = [];
  let listed = "";
  for (const file of files) {
    const result = await original(ctx, [...flags, file]);
    listed += result.stdout;
    stderr += result.stderr;
    exitCode = Math.max(exitCode, result.exitCode);
  }
  if (files.length > 0) sections.push(listed);
  for (const dir of dirs) {
    const result = await original(ctx, [...flags, dir]);
    sections.push(`${dir}:\n${result.stdout}`);
    stderr += result.stderr;
    exitCode = Math.max(exitCode, result.exitCode);
  }
  return { stdout: sections.join("\n"), stderr, exitCode };
});

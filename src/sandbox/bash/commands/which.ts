/**
 * `which` that also finds just-bash's built-in commands. just-bash's own `which` looks for files on
 * $PATH, which exist only when the filesystem takes the stub files just-bash writes at start-up; the
 * sandbox filesystem does not store those, so built-ins are reported where a Linux box keeps them.
 */
import { type Command, defineCommand } from "just-bash";

const BUILTIN_DIR = "/usr/bin";

export const whichCommand: Command = defineCommand("which", async (args, ctx) => {
  const showAll = args.includes("-a");
  const silent = args.includes("-s");
  const names = args.filter((arg) => !arg.startsWith("-"));
  if (names.length === 0) return { stdout: "", stderr: "", exitCode: 1 };
  const builtins = new Set(ctx.getRegisteredCommands?.() ?? []);
  const dirs = (ctx.env.get("PATH") ?? "/usr/bin:/bin").split(":").filter(Boolean);
  let stdout = "";
  let allFound = true;
  for (const name of names) {
    const hits: string[] = [];
    if (name.includes("/")) {
      if (await ctx.fs.exists(ctx.fs.resolvePath(ctx.cwd, name))) hits.push(name);
    } else {
      for (const dir of dirs) {
        const path = ctx.fs.resolvePath(dir, name);
        if (await ctx.fs.exists(path)) hits.push(path);
        if (hits.length > 0 && !showAll) break;
      }
      const builtinPath = `${BUILTIN_DIR}/${name}`;
      if (builtins.has(name) && !hits.includes(builtinPath) && (hits.length === 0 || showAll)) hits.push(builtinPath);
    }
    if (hits.length === 0) allFound = false;
    if (!silent) for (const hit of showAll ? hits : hits.slice(0, 1)) stdout += `${hit}\n`;
  }
  return { stdout, stderr: "", exitCode: allFound ? 0 : 1 };
});

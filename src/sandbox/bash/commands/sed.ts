/**
 * `sed -i SUFFIX` (`-i.bak`, `--in-place=.bak`): keeps a backup of each file before editing it in
 * place, as GNU sed does; just-bash's sed knows only a bare `-i`.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const WITH_VALUE = new Set(["-e", "-f", "-l", "--expression", "--file", "--line-length"]);

export const sedCommand: Command = defineCommand("sed", async (args, ctx) => {
  const suffixArg = args.findIndex((arg) => /^-i.+$/.test(arg) || /^--in-place=.+$/.test(arg));
  if (suffixArg < 0) return original(ctx, args);
  const flag = args[suffixArg] as string;
  const suffix = flag.startsWith("--") ? flag.slice("--in-place=".length) : flag.slice(2);
  const rewritten = args.map((arg, index) => (index === suffixArg ? "-i" : arg));

  let scriptGiven = false;
  const files: string[] = [];
  for (let i = 0; i < rewritten.length; i++) {
    const arg = rewritten[i] as string;
    if (WITH_VALUE.has(arg)) {
      if (arg !== "-l" && arg !== "--line-length") scriptGiven = true;
      i++;
    } else if (/^-[ef]./.test(arg) || /^--(expression|file)=/.test(arg)) {
      scriptGiven = true;
    } else if (!arg.startsWith("-") || arg === "-") {
      if (scriptGiven) files.push(arg);
      else scriptGiven = true;
    }
  }
  for (const file of files) {
    const path = ctx.fs.resolvePath(ctx.cwd, file);
    try {
      await ctx.fs.writeFile(ctx.fs.resolvePath(ctx.cwd, file + suffix), await ctx.fs.readFileBuffer(path));
    } catch {
      // A missing file: sed reports it below.
    }
  }
  return original(ctx, rewritten);
});

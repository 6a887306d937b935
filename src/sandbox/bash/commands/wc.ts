/**
 * `wc` with GNU's column widths: one count of one input is printed bare; otherwise every number
 * is padded to the digits of the inputs' total size in bytes (to 7 when reading a pipe). just-bash
 * pads by its own rule, which differs as soon as several files are counted.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const LONG_FLAGS: Record<string, string> = {
  "--lines": "l",
  "--words": "w",
  "--bytes": "c",
  "--chars": "m",
  "--max-line-length": "L",
};

export const wcCommand: Command = defineCommand("wc", async (args, ctx) => {
  const counts = new Set<string>();
  const files: string[] = [];
  for (const arg of args) {
    const long = LONG_FLAGS[arg];
    if (long) counts.add(long);
    else if (/^-[lwcmL]+$/.test(arg)) for (const letter of arg.slice(1)) counts.add(letter);
    else if (arg.startsWith("-") && arg !== "-") return original(ctx, args);
    else files.push(arg);
  }
  const columns = counts.size === 0 ? 3 : counts.size;
  const result = await original(ctx, args);
  let width = 1;
  if (columns > 1 || files.length > 1) {
    let total = 0;
    let pipe = files.length === 0;
    for (const file of files) {
      if (file === "-") pipe = true;
      else
        total += await ctx.fs.stat(ctx.fs.resolvePath(ctx.cwd, file)).then(
          (stat) => stat.size,
          () => 0,
        );
    }
    width = Math.max(pipe ? 7 : 1, String(total).length);
  }
  const line = new RegExp(`^ *(\\d+(?: +\\d+){${columns - 1}})( .*)?$`);
  const stdout = result.stdout
    .split("\n")
    .map((text) => {
      const match = line.exec(text);
      if (!match) return text;
      const numbers = (match[1] as string).trim().split(/ +/);
      return numbers.map((n) => n.padStart(width)).join(" ") + (match[2] ?? "");
    })
    .join("\n");
  return { ...result, stdout };
});

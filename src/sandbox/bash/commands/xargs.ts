/**
 * `xargs` closer to GNU's: option values may be attached (`-I{}`, `-n1`, `-L1`), and `-I` takes
 * whole input lines (blanks inside a line do not split it), running the command once per line.
 * just-bash's xargs splits `-I` input on blanks and wants option values as separate words.
 */
import { type Command, defineCommand, type ResolvedCommandContext } from "just-bash";
import { original, splitLines, stdinText } from "./command-io.ts";

const WITH_VALUE = new Set(["I", "n", "L", "P", "d", "s", "a", "E"]);

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/** One run of the command per input line, `replace` substituted in its arguments. */
async function perLine(ctx: ResolvedCommandContext, replace: string, command: string[], trace: boolean) {
  const argv = command.length > 0 ? command : ["echo", replace];
  let stdout = "";
  let stderr = "";
  let exitCode = 0;
  for (const raw of splitLines(stdinText(ctx))) {
    const item = raw.replace(/^[ \t]+/, "");
    if (item === "") continue;
    const words = argv.map((word) => word.replaceAll(replace, item));
    if (trace) stderr += `${words.join(" ")}\n`;
    if (!ctx.exec) return { stdout, stderr: `${stderr}xargs: cannot run commands here\n`, exitCode: 1 };
    const result = await ctx.exec(words.map(quote).join(" "), {
      cwd: ctx.cwd,
      env: { ...ctx.exportedEnv },
      signal: ctx.signal,
    });
    stdout += result.stdout;
    stderr += result.stderr;
    if (result.exitCode === 255) return { stdout, stderr, exitCode: 124 };
    if (result.exitCode !== 0) exitCode = 123;
  }
  return { stdout, stderr, exitCode };
}

export const xargsCommand: Command = defineCommand("xargs", async (args, ctx) => {
  const options: string[] = [];
  let replace: string | undefined;
  let trace = false;
  let simple = true; // only -I, -r and -t: what perLine covers
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    // The command to run starts at the first operand: its arguments are left alone.
    if (!arg.startsWith("-") || arg === "-" || arg === "--") {
      const command = args.slice(arg === "--" ? i + 1 : i);
      if (replace !== undefined && simple) return perLine(ctx, replace, command, trace);
      return original(ctx, [...options, ...command]);
    }
    const letter = arg[1] ?? "";
    let value: string | undefined;
    if (arg.length === 2 && WITH_VALUE.has(letter)) value = args[++i] ?? "";
    else if (arg.length > 2 && !arg.startsWith("--") && WITH_VALUE.has(letter)) value = arg.slice(2);
    if (value === undefined) {
      options.push(arg);
      if (arg === "-t" || arg === "--verbose") trace = true;
      else if (arg !== "-r" && arg !== "--no-run-if-empty") simple = false;
      continue;
    }
    options.push(`-${letter}`, value);
    if (letter === "I") replace = value;
    else simple = false;
  }
  if (replace !== undefined && simple) return perLine(ctx, replace, [], trace);
  return original(ctx, options);
});

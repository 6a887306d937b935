/**
 * `grep` naming files as GNU grep does when it searches recursively: with no file operand it
 * searches `.` (just-bash searches nothing), and a file found under an operand keeps that operand
 * as written (`grep -r x .` prints `./src/a.js`, not `src/a.js`).
 */
import { type Command, defineCommand } from "just-bash";
import { hasFlag, original } from "./command-io.ts";

/** Options that take the next word as their value. */
const WITH_VALUE = new Set(["-e", "-f", "-m", "-A", "-B", "-C", "-d", "-D", "--regexp", "--file", "--max-count"]);

function operands(args: readonly string[]): { patternGiven: boolean; paths: number[] } {
  let patternGiven = false;
  let pattern = false;
  const paths: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      for (let j = i + 1; j < args.length; j++) {
        if (!patternGiven && !pattern) pattern = true;
        else paths.push(j);
      }
      break;
    }
    if (WITH_VALUE.has(arg)) {
      if (arg === "-e" || arg === "-f" || arg === "--regexp" || arg === "--file") patternGiven = true;
      i++;
    } else if (/^-[ef]./.test(arg) || /^--(regexp|file)=/.test(arg)) {
      patternGiven = true;
    } else if (!arg.startsWith("-") || arg === "-") {
      if (!patternGiven && !pattern) pattern = true;
      else paths.push(i);
    }
  }
  return { patternGiven, paths };
}

export const grepCommand: Command = defineCommand("grep", async (args, ctx) => {
  if (!hasFlag(args, "r", "--recursive") && !hasFlag(args, "R", "--dereference-recursive")) return original(ctx, args);
  const { paths } = operands(args);
  if (paths.length === 0) return original(ctx, [...args, "."]);
  if (paths.length !== 1 || hasFlag(args, "h", "--no-filename")) return original(ctx, args);
  const operand = args[paths[0] as number] as string;
  const prefix = operand === "." ? "./" : operand.endsWith("/") ? operand : "";
  if (!prefix) return original(ctx, args);
  const result = await original(ctx, args);
  const stdout = result.stdout
    .split("\n")
    .map((line) => {
      if (line === "" || line === "--") return line;
      const rest = line.startsWith(prefix) ? line.slice(prefix.length) : line;
      return prefix + rest.replace(/^\/+/, "");
    })
    .join("\n");
  return { ...result, stdout };
});

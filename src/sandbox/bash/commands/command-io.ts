/**
 * Small helpers shared by the commands that bring just-bash's output closer to GNU's. Only what a
 * Worker can use: just-bash's browser build (the one workerd loads) exports no encoding helpers.
 */
import type { ExecResult, ResolvedCommandContext } from "just-bash";

export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const decoder = new TextDecoder();

/** stdin as text: just-bash hands it over as a byte string (one char per byte). */
export function stdinText(ctx: ResolvedCommandContext): string {
  const bytes = ctx.stdin as unknown as string;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
  return decoder.decode(out);
}

/** Reads a file operand (`-` is stdin) as text, or says why not in the command's own words. */
export async function readOperand(
  ctx: ResolvedCommandContext,
  command: string,
  operand: string,
): Promise<{ text: string } | { error: string }> {
  if (operand === "-") return { text: stdinText(ctx) };
  const path = ctx.fs.resolvePath(ctx.cwd, operand);
  try {
    if ((await ctx.fs.stat(path)).isDirectory) return { error: `${command}: ${operand}: Is a directory\n` };
    return { text: await ctx.fs.readFile(path) };
  } catch {
    return { error: `${command}: ${operand}: No such file or directory\n` };
  }
}

/** Lines of a text, without the newline that ends the last one. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** True when `args` holds the short flag `letter` (alone or in a cluster like `-rn`) or a long form. */
export function hasFlag(args: readonly string[], letter: string, ...long: string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (long.includes(arg)) return true;
    if (/^-[A-Za-z]+$/.test(arg) && arg.includes(letter)) return true;
  }
  return false;
}

/** Runs the just-bash command this one shadows, with the same stdin. */
export async function original(ctx: ResolvedCommandContext, args: string[]): Promise<ExecResult> {
  if (!ctx.origCommand) return { stdout: "", stderr: "internal: no original command\n", exitCode: 2 };
  return ctx.origCommand(args);
}

/**
 * `find -perm` with symbolic modes (`-perm -u+x`, `-perm /a=x`, `-perm g=w`), which GNU find takes
 * and just-bash's find refuses: each is turned into the octal mode it stands for, which just-bash's
 * find matches as GNU find does (exact, `-` all bits, `/` any bit). Everything else is as given.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };
const WHAT: Record<string, number> = { r: 0o444, w: 0o222, x: 0o111, X: 0o111, s: 0o6000, t: 0o1000 };

/** The octal mode a symbolic mode gives when applied to 000, or undefined when it is not one. */
export function symbolicMode(text: string): number | undefined {
  let mode = 0;
  for (const clause of text.split(",")) {
    const match = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!match) return undefined;
    const [, who = "", op, perms = ""] = match;
    const mask = (who === "" ? "a" : who).split("").reduce((bits, w) => bits | (WHO[w] ?? 0), 0);
    const bits = perms.split("").reduce((acc, p) => acc | (WHAT[p] ?? 0), 0) & mask;
    if (op === "+") mode |= bits;
    else if (op === "-") mode &= ~bits;
    else mode = (mode & ~mask) | bits;
  }
  return mode;
}

export const findCommand: Command = defineCommand("find", async (args, ctx) => {
  let changed = false;
  const rewritten = args.map((arg, index) => {
    if (args[index - 1] !== "-perm") return arg;
    const prefix = arg.startsWith("-") || arg.startsWith("/") ? arg.slice(0, 1) : "";
    const body = arg.slice(prefix.length);
    if (/^[0-7]+$/.test(body)) return arg;
    const mode = symbolicMode(body);
    if (mode === undefined) return arg;
    changed = true;
    return `${prefix}${mode.toString(8).padStart(3, "0")}`;
  });
  return original(ctx, changed ? rewritten : args);
});

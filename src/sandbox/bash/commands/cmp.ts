/**
 * `cmp`, which just-bash lacks: compares two files byte by byte as GNU cmp (diffutils) does, and
 * says where they first differ. Covered: -s (silent), -l (every differing byte), -b (print the
 * bytes), `-` for stdin. Exit status 0 same, 1 different, 2 trouble.
 */
import { type Command, defineCommand, type ResolvedCommandContext } from "just-bash";

async function bytesOf(ctx: ResolvedCommandContext, operand: string): Promise<Uint8Array | string> {
  if (operand === "-") {
    const raw = ctx.stdin as unknown as string;
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  const path = ctx.fs.resolvePath(ctx.cwd, operand);
  try {
    if ((await ctx.fs.stat(path)).isDirectory) return `cmp: ${operand}: Is a directory\n`;
    return await ctx.fs.readFileBuffer(path);
  } catch {
    return `cmp: ${operand}: No such file or directory\n`;
  }
}

/** A byte as cmp -b shows it: octal value and its printable form (`^J`, `M-a`). */
function shown(byte: number): string {
  const low = byte & 0x7f;
  const printable = low < 32 ? `^${String.fromCharCode(low + 64)}` : low === 127 ? "^?" : String.fromCharCode(low);
  return `${byte.toString(8).padStart(3, " ")} ${byte > 127 ? "M-" : ""}${printable}`;
}

function cLocale(ctx: ResolvedCommandContext): boolean {
  const locale = ctx.env.get("LC_ALL") || ctx.env.get("LC_MESSAGES") || ctx.env.get("LANG") || "C";
  return locale === "C" || locale === "POSIX";
}

export const cmpCommand: Command = defineCommand("cmp", async (args, ctx) => {
  let silent = false;
  let list = false;
  let printBytes = false;
  const operands: string[] = [];
  for (const arg of args) {
    if (arg === "-s" || arg === "--quiet" || arg === "--silent") silent = true;
    else if (arg === "-l" || arg === "--verbose") list = true;
    else if (arg === "-b" || arg === "--print-bytes") printBytes = true;
    else if (/^-[slb]+$/.test(arg)) {
      silent ||= arg.includes("s");
      list ||= arg.includes("l");
      printBytes ||= arg.includes("b");
    } else if (arg.startsWith("-") && arg !== "-")
      return { stdout: "", stderr: `cmp: invalid option -- '${arg.slice(1)}'\n`, exitCode: 2 };
    else operands.push(arg);
  }
  if (operands.length === 1) operands.push("-");
  if (operands.length !== 2) return { stdout: "", stderr: "cmp: missing operand\n", exitCode: 2 };
  const [nameA, nameB] = operands as [string, string];
  const a = await bytesOf(ctx, nameA);
  const b = await bytesOf(ctx, nameB);
  if (typeof a === "string" || typeof b === "string") {
    return { stdout: "", stderr: silent ? "" : [a, b].filter((x) => typeof x === "string").join(""), exitCode: 2 };
  }
  const shorter = Math.min(a.length, b.length);
  let line = 1;
  let out = "";
  let differ = false;
  for (let i = 0; i < shorter; i++) {
    if (a[i] !== b[i]) {
      differ = true;
      if (silent) break;
      if (list) {
        out += `${String(i + 1).padStart(String(shorter).length)} ${(a[i] as number).toString(8).padStart(3)} ${(b[i] as number).toString(8).padStart(3)}\n`;
        continue;
      }
      const bytes = printBytes ? ` is ${shown(a[i] as number)} ${shown(b[i] as number)}` : "";
      // GNU cmp says "char" in the C locale (POSIX's wording) unless it prints the bytes.
      const unit = printBytes || !cLocale(ctx) ? "byte" : "char";
      out += `${nameA} ${nameB} differ: ${unit} ${i + 1}, line ${line}${bytes}\n`;
      break;
    }
    if (a[i] === 10) line++;
  }
  let stderr = "";
  if (a.length !== b.length && (!differ || list)) {
    differ = true;
    if (!silent) {
      const [short, shortLength] = a.length < b.length ? [nameA, a.length] : [nameB, b.length];
      // The line of the last byte compared: a newline ending it does not start another.
      const lastLine = (a.length < b.length ? a : b)[shortLength - 1] === 10 ? line - 1 : line;
      const where = list ? "" : `, line ${lastLine}`;
      stderr =
        shortLength === 0
          ? `cmp: EOF on ${short} which is empty\n`
          : `cmp: EOF on ${short} after byte ${shortLength}${where}\n`;
    }
  }
  return { stdout: silent ? "" : out, stderr, exitCode: differ ? 1 : 0 };
});

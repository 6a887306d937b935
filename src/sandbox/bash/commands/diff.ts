/**
 * `diff` for two files in GNU's formats: the normal format (`2c2`, `< old`, `---`, `> new`) by
 * default, unified with -u / -U N (headers carry the files' modification times, as GNU's do), and
 * -q / -s, and --label / -L (what the unified header names instead of a file and its time, as
 * `git diff`-style patches use: `--- a/file`). just-bash's diff prints a unified-style diff whatever was asked; it still handles what
 * this one does not (directories, -r, -i, -w, -y, …). Exit status: 0 same, 1 different, 2 trouble.
 */
import { type Command, defineCommand, type ResolvedCommandContext } from "just-bash";
import { original, readOperand } from "./command-io.ts";
import { type Change, diffLines } from "./line-diff.ts";

interface Options {
  unified?: number;
  brief: boolean;
  reportSame: boolean;
  /** --label / -L, in order: the first names the old file, the second the new one. */
  labels: string[];
  files: string[];
}

const NO_NEWLINE = "\\ No newline at end of file";

function parseArgs(args: readonly string[]): Options | null {
  const options: Options = { brief: false, reportSame: false, labels: [], files: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-u" || arg === "--unified") options.unified = 3;
    else if (/^--unified=\d+$/.test(arg)) options.unified = Number(arg.slice(10));
    else if (/^-U\d+$/.test(arg)) options.unified = Number(arg.slice(2));
    else if (arg === "-U" && /^\d+$/.test(args[i + 1] ?? "")) options.unified = Number(args[++i]);
    else if (arg === "-q" || arg === "--brief") options.brief = true;
    else if (arg === "-s" || arg === "--report-identical-files") options.reportSame = true;
    else if ((arg === "-L" || arg === "--label") && i + 1 < args.length) options.labels.push(args[++i] as string);
    else if (/^--label=/.test(arg)) options.labels.push(arg.slice("--label=".length));
    else if (/^-L./.test(arg)) options.labels.push(arg.slice(2));
    else if (arg.startsWith("-") && arg !== "-") return null;
    else options.files.push(arg);
  }
  return options.files.length === 2 && options.labels.length <= 2 ? options : null;
}

/** Lines compared as GNU does: a last line without its newline differs from one with it. */
interface Side {
  name: string;
  lines: string[];
  keys: string[];
  missingNewline: boolean;
  mtime: Date;
}

async function load(ctx: ResolvedCommandContext, name: string): Promise<Side | { error: string } | "directory"> {
  if (name !== "-") {
    try {
      if ((await ctx.fs.stat(ctx.fs.resolvePath(ctx.cwd, name))).isDirectory) return "directory";
    } catch {
      return { error: `diff: ${name}: No such file or directory\n` };
    }
  }
  const read = await readOperand(ctx, "diff", name);
  if ("error" in read) return read;
  const missingNewline = read.text !== "" && !read.text.endsWith("\n");
  const lines = read.text === "" ? [] : (missingNewline ? read.text : read.text.slice(0, -1)).split("\n");
  const keys = missingNewline ? [...lines.slice(0, -1), `${lines.at(-1)}\0`] : lines;
  const mtime = name === "-" ? new Date() : (await ctx.fs.stat(ctx.fs.resolvePath(ctx.cwd, name))).mtime;
  return { name, lines, keys, missingNewline, mtime };
}

function emit(side: Side, index: number, mark: string): string {
  const line = `${mark}${side.lines[index]}\n`;
  return side.missingNewline && index === side.lines.length - 1 ? `${line}${NO_NEWLINE}\n` : line;
}

const range = (start: number, end: number) =>
  end - start <= 1 ? `${end > start ? start + 1 : start}` : `${start + 1},${end}`;

function normalFormat(a: Side, b: Side, changes: Change[]): string {
  let out = "";
  for (const c of changes) {
    const kind = c.aStart === c.aEnd ? "a" : c.bStart === c.bEnd ? "d" : "c";
    out += `${kind === "a" ? c.aStart : range(c.aStart, c.aEnd)}${kind}${kind === "d" ? c.bStart : range(c.bStart, c.bEnd)}\n`;
    for (let i = c.aStart; i < c.aEnd; i++) out += emit(a, i, "< ");
    if (kind === "c") out += "---\n";
    for (let j = c.bStart; j < c.bEnd; j++) out += emit(b, j, "> ");
  }
  return out;
}

function timestamp(date: Date): string {
  const iso = date.toISOString(); // UTC, as the sandbox's clock
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000000 +0000`;
}

const hunkRange = (start: number, count: number) =>
  count === 1 ? `${start + 1}` : `${count === 0 ? start : start + 1},${count}`;

/** A unified header line: the label as given, or the file's name and modification time. */
const header = (side: Side, label: string | undefined) => label ?? `${side.name}\t${timestamp(side.mtime)}`;

function unifiedFormat(a: Side, b: Side, changes: Change[], context: number, labels: string[]): string {
  let out = `--- ${header(a, labels[0])}\n+++ ${header(b, labels[1])}\n`;
  let i = 0;
  while (i < changes.length) {
    // A hunk takes every change whose context touches the previous one's.
    let j = i;
    while (j + 1 < changes.length && (changes[j + 1] as Change).aStart - (changes[j] as Change).aEnd <= 2 * context)
      j++;
    const first = changes[i] as Change;
    const last = changes[j] as Change;
    const aFrom = Math.max(0, first.aStart - context);
    const bFrom = first.bStart - (first.aStart - aFrom);
    const aTo = Math.min(a.lines.length, last.aEnd + context);
    const bTo = last.bEnd + (aTo - last.aEnd);
    out += `@@ -${hunkRange(aFrom, aTo - aFrom)} +${hunkRange(bFrom, bTo - bFrom)} @@\n`;
    let ai = aFrom;
    for (let k = i; k <= j; k++) {
      const c = changes[k] as Change;
      for (; ai < c.aStart; ai++) out += emit(a, ai, " ");
      for (let x = c.aStart; x < c.aEnd; x++) out += emit(a, x, "-");
      for (let y = c.bStart; y < c.bEnd; y++) out += emit(b, y, "+");
      ai = c.aEnd;
    }
    for (; ai < aTo; ai++) out += emit(a, ai, " ");
    i = j + 1;
  }
  return out;
}

export const diffCommand: Command = defineCommand("diff", async (args, ctx) => {
  const options = parseArgs(args);
  if (!options) return original(ctx, args);
  const [left, right] = await Promise.all(options.files.map((name) => load(ctx, name)));
  if (left === "directory" || right === "directory" || !left || !right) return original(ctx, args);
  if ("error" in left || "error" in right) {
    return {
      stdout: "",
      stderr: ("error" in left ? left.error : "") + ("error" in right ? right.error : ""),
      exitCode: 2,
    };
  }
  const changes = diffLines(left.keys, right.keys);
  if (!changes) return original(ctx, args);
  if (changes.length === 0) {
    const stdout = options.reportSame ? `Files ${left.name} and ${right.name} are identical\n` : "";
    return { stdout, stderr: "", exitCode: 0 };
  }
  if (options.brief) return { stdout: `Files ${left.name} and ${right.name} differ\n`, stderr: "", exitCode: 1 };
  const stdout =
    options.unified === undefined
      ? normalFormat(left, right, changes)
      : unifiedFormat(left, right, changes, options.unified, options.labels);
  return { stdout, stderr: "", exitCode: 1 };
});

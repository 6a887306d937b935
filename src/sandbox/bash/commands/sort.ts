/**
 * `sort` in the C locale (byte order), as GNU sort sorts in a container with no locale set.
 * just-bash's sort collates like a natural-language locale (`a A b B`), which reorders `ls`-style
 * listings and mixed-case data; it is still used for what this one does not cover (-V, -M, -R, -c,
 * -m) and whenever LC_ALL / LC_COLLATE / LANG name a locale other than C or POSIX.
 *
 * Covered: -b -f -n -g -h -r -u -s, -z (NUL-terminated records), -t SEP, -k KEYDEF (repeatable, with per-key flags), -o FILE,
 * files and `-`, and GNU's last-resort whole-line comparison between lines whose keys tie.
 */
import { type Command, defineCommand, type ResolvedCommandContext } from "just-bash";
import { original, readOperand, splitLines } from "./command-io.ts";

interface KeyOptions {
  blanks: boolean;
  fold: boolean;
  numeric: "" | "n" | "g" | "h";
  reverse: boolean;
}

interface Key extends KeyOptions {
  startField: number;
  startChar: number;
  endField: number; // 0: end of line
  endChar: number; // 0: end of field
}

interface Parsed {
  global: KeyOptions;
  keys: Key[];
  separator?: string;
  unique: boolean;
  stable: boolean;
  /** -z: records end with NUL instead of newline. */
  zero: boolean;
  output?: string;
  files: string[];
}

const DELEGATED = /[VMRcCm]/;

function parseArgs(args: readonly string[]): Parsed | null {
  const parsed: Parsed = {
    global: { blanks: false, fold: false, numeric: "", reverse: false },
    keys: [],
    unique: false,
    stable: false,
    zero: false,
    files: [],
  };
  const keyDefs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      parsed.files.push(...args.slice(i + 1));
      break;
    }
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (long) {
      const [, name, value] = long;
      const next = () => value ?? args[++i] ?? "";
      if (name === "numeric-sort") parsed.global.numeric = "n";
      else if (name === "general-numeric-sort") parsed.global.numeric = "g";
      else if (name === "human-numeric-sort") parsed.global.numeric = "h";
      else if (name === "reverse") parsed.global.reverse = true;
      else if (name === "unique") parsed.unique = true;
      else if (name === "stable") parsed.stable = true;
      else if (name === "zero-terminated") parsed.zero = true;
      else if (name === "ignore-case") parsed.global.fold = true;
      else if (name === "ignore-leading-blanks") parsed.global.blanks = true;
      else if (name === "field-separator") parsed.separator = next();
      else if (name === "key") keyDefs.push(next());
      else if (name === "output") parsed.output = next();
      else return null;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      parsed.files.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j] as string;
      if ("tko".includes(letter)) {
        const value = arg.slice(j + 1) || (args[++i] ?? "");
        if (letter === "t") parsed.separator = value;
        else if (letter === "k") keyDefs.push(value);
        else parsed.output = value;
        break;
      }
      if (DELEGATED.test(letter)) return null;
      if (letter === "S" || letter === "T") break; // buffer size / temp dir: irrelevant here
      if (!applyFlag(parsed.global, letter)) {
        if (letter === "u") parsed.unique = true;
        else if (letter === "s") parsed.stable = true;
        else if (letter === "z") parsed.zero = true;
        else return null;
      }
    }
  }
  for (const def of keyDefs) {
    const key = parseKey(def, parsed.global);
    if (!key) return null;
    parsed.keys.push(key);
  }
  return parsed;
}

function applyFlag(options: KeyOptions, letter: string): boolean {
  if (letter === "b") options.blanks = true;
  else if (letter === "f") options.fold = true;
  else if (letter === "n" || letter === "g" || letter === "h") options.numeric = letter;
  else if (letter === "r") options.reverse = true;
  else return false;
  return true;
}

function parseKey(def: string, global: KeyOptions): Key | null {
  const match = /^(\d+)(?:\.(\d+))?([bfghnr]*)(?:,(\d+)(?:\.(\d+))?([bfghnr]*))?$/.exec(def);
  if (!match) return null;
  const flags = (match[3] ?? "") + (match[6] ?? "");
  const options: KeyOptions = flags ? { blanks: false, fold: false, numeric: "", reverse: false } : { ...global };
  for (const letter of flags) applyFlag(options, letter);
  return {
    ...options,
    startField: Number(match[1]),
    startChar: Number(match[2] ?? 1),
    endField: Number(match[4] ?? 0),
    endChar: Number(match[5] ?? 0),
  };
}

/** Field start offsets: with -t, after each separator; otherwise each field takes its leading blanks. */
function fieldBounds(line: string, separator: string | undefined): [number, number][] {
  const bounds: [number, number][] = [];
  if (separator !== undefined) {
    let start = 0;
    for (;;) {
      const at = line.indexOf(separator, start);
      if (at < 0 || separator === "") break;
      bounds.push([start, at]);
      start = at + separator.length;
    }
    bounds.push([start, line.length]);
    return bounds;
  }
  const re = /[ \t]*[^ \t]+/g;
  for (let match = re.exec(line); match; match = re.exec(line))
    bounds.push([match.index, match.index + match[0].length]);
  return bounds;
}

function keyText(line: string, key: Key, separator: string | undefined): string {
  const bounds = fieldBounds(line, separator);
  const field = bounds[key.startField - 1];
  if (!field) return "";
  let start = field[0];
  if (key.blanks) while (start < field[1] && (line[start] === " " || line[start] === "\t")) start++;
  start = Math.min(start + key.startChar - 1, key.startChar > 1 ? field[1] : start);
  let end = line.length;
  if (key.endField > 0) {
    const last = bounds[key.endField - 1];
    end = !last ? line.length : key.endChar === 0 ? last[1] : Math.min(last[0] + key.endChar, last[1]);
  }
  return line.slice(start, Math.max(start, end));
}

const HUMAN = "KMGTPEZY";

/** A number as sort reads it: [magnitude class (for -h suffixes), value]. Non-numbers are 0. */
function numberOf(text: string, kind: "n" | "g" | "h"): [number, number] {
  const trimmed = text.trimStart();
  if (kind === "g") {
    const value = Number.parseFloat(trimmed);
    return [0, Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value];
  }
  const match = /^-?(\d*\.?\d*)([KMGTPEZYk]?)/.exec(trimmed);
  const value = Number.parseFloat(match?.[0] ?? "") || 0;
  const suffix = kind === "h" && match?.[2] ? HUMAN.indexOf(match[2].toUpperCase()) + 1 : 0;
  return [Math.sign(value) * suffix, value];
}

function compareNumbers(a: string, b: string, kind: "n" | "g" | "h"): number {
  const [classA, valueA] = numberOf(a, kind);
  const [classB, valueB] = numberOf(b, kind);
  return Math.sign(classA - classB) || Math.sign(valueA - valueB);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKey(a: string, b: string, options: KeyOptions): number {
  let result: number;
  if (options.numeric) {
    result = compareNumbers(a, b, options.numeric);
  } else {
    const left = options.blanks ? a.trimStart() : a;
    const right = options.blanks ? b.trimStart() : b;
    result = options.fold ? compareText(left.toUpperCase(), right.toUpperCase()) : compareText(left, right);
  }
  return options.reverse ? -result : result;
}

function sortLines(lines: string[], parsed: Parsed): string[] {
  const keys: Key[] =
    parsed.keys.length > 0 ? parsed.keys : [{ ...parsed.global, startField: 1, startChar: 1, endField: 0, endChar: 0 }];
  const wholeLine = parsed.keys.length === 0;
  const byKeys = (a: string, b: string) => {
    for (const key of keys) {
      const result = wholeLine
        ? compareKey(a, b, key)
        : compareKey(keyText(a, key, parsed.separator), keyText(b, key, parsed.separator), key);
      if (result !== 0) return result;
    }
    return 0;
  };
  const lastResort =
    parsed.stable || parsed.unique
      ? () => 0
      : (a: string, b: string) => (parsed.global.reverse ? -1 : 1) * compareText(a, b);
  const sorted = [...lines].sort((a, b) => byKeys(a, b) || lastResort(a, b));
  if (!parsed.unique) return sorted;
  return sorted.filter((line, i) => i === 0 || byKeys(sorted[i - 1] as string, line) !== 0);
}

function cLocale(ctx: ResolvedCommandContext): boolean {
  const locale = ctx.env.get("LC_ALL") || ctx.env.get("LC_COLLATE") || ctx.env.get("LANG") || "C";
  return locale === "C" || locale === "POSIX" || locale.startsWith("C.");
}

function splitRecords(text: string, end: string): string[] {
  if (text === "") return [];
  const records = text.split(end);
  if (records.at(-1) === "") records.pop();
  return records;
}

export const sortCommand: Command = defineCommand("sort", async (args, ctx) => {
  const parsed = cLocale(ctx) ? parseArgs(args) : null;
  if (!parsed) return original(ctx, args);
  const lines: string[] = [];
  let stderr = "";
  for (const file of parsed.files.length > 0 ? parsed.files : ["-"]) {
    const read = await readOperand(ctx, "sort", file);
    if ("error" in read) {
      stderr += read.error.replace(
        /^sort: (.*): No such file or directory\n$/,
        "sort: cannot read: $1: No such file or directory\n",
      );
      continue;
    }
    lines.push(...(parsed.zero ? splitRecords(read.text, "\0") : splitLines(read.text)));
  }
  if (stderr) return { stdout: "", stderr, exitCode: 2 };
  const end = parsed.zero ? "\0" : "\n";
  const stdout = sortLines(lines, parsed)
    .map((line) => `${line}${end}`)
    .join("");
  if (parsed.output === undefined) return { stdout, stderr: "", exitCode: 0 };
  await ctx.fs.writeFile(ctx.fs.resolvePath(ctx.cwd, parsed.output), stdout);
  return { stdout: "", stderr: "", exitCode: 0 };
});

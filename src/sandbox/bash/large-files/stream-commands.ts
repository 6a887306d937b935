/**
 * head, tail and wc on files too large to load whole (over WHOLE_FILE_MAX_BYTES): they read the
 * file by range, a chunk at a time (head from the start, tail from the end, wc through it), so
 * `head big.log`, `tail -n 50 big.log` and `wc -l big.log` answer on a 300 MiB file with a couple
 * of chunks in memory. Output is bounded too: past STREAM_OUTPUT_MAX_BYTES the command stops and
 * says how to ask for less. Only the forms in stream-options.ts (and `sed -n 'A,Bp' FILE`), and
 * only when an operand is large: everything else runs the usual command (GNU wrapper or
 * just-bash's own).
 *
 * Other commands that read their files whole (cat, grep, sort, …) are refused on a large operand
 * before they start, with the reason and what to use instead: just-bash would report the
 * filesystem's refusal as "No such file or directory", which sends an agent looking elsewhere.
 */
import {
  type Command,
  type CommandContext,
  type CustomCommand,
  defineCommand,
  type ExecResult,
  getCommandNames,
  type IFileSystem,
} from "just-bash";
import {
  type ByteSource,
  isRangedFs,
  RANGE_READ_BYTES,
  type RangedFs,
  tooLargeReason,
  WHOLE_FILE_MAX_BYTES,
} from "../../fs/large-files.ts";
import { formatBytes } from "../../fs/quota.ts";
import { type HeadTailOptions, parseHeadTail, parseSedRange, parseWc, type WcCount } from "./stream-options.ts";

/** Most output one of these commands produces from large files. */
export const STREAM_OUTPUT_MAX_BYTES = WHOLE_FILE_MAX_BYTES;

const NEWLINE = 10;
const decoder = new TextDecoder();

type Streamed = (args: string[], ctx: CommandContext, fs: IFileSystem & RangedFs) => Promise<ExecResult | undefined>;

/**
 * `commands` with head, tail and wc taught to stream large files; the command each one wraps (the
 * entry of the same name in `commands`, else just-bash's own) runs everything else.
 */
export function withLargeFileCommands(fs: IFileSystem, commands: readonly CustomCommand[]): CustomCommand[] {
  if (!isRangedFs(fs)) return [...commands];
  const streamed: Record<string, Streamed> = { head: streamHead, tail: streamTail, wc: streamWc, sed: streamSed };
  // Only commands that exist (just-bash's or ours): wrapping a missing one would make it exist.
  const known = new Set([...getCommandNames(), ...commands.map((command) => command.name)]);
  for (const name of WHOLE_FILE_COMMANDS) if (known.has(name)) streamed[name] ??= refuseLarge(name);
  const wrapped = Object.entries(streamed).map(([name, stream]) => {
    const inner = commands.find((command): command is Command => command.name === name && "execute" in command);
    return defineCommand(name, async (args, ctx) => {
      const result =
        (await stream(args, ctx, fs)) ?? (name in STREAMING ? await refuseLarge(name)(args, ctx, fs) : undefined);
      if (result) return result;
      if (inner) return inner.execute(args, ctx);
      return ctx.origCommand ? ctx.origCommand(args) : { stdout: "", stderr: `${name}: unavailable\n`, exitCode: 2 };
    });
  });
  return [...commands.filter((command) => !(command.name in streamed)), ...wrapped];
}

const STREAMING = { head: true, tail: true, wc: true };

/** Commands that read their file operands whole (just-bash's implementations and our wrappers). */
const WHOLE_FILE_COMMANDS = [
  "cat",
  "grep",
  "egrep",
  "fgrep",
  "rg",
  "sed",
  "awk",
  "sort",
  "uniq",
  "cut",
  "nl",
  "tac",
  "rev",
  "od",
  "md5sum",
  "sha1sum",
  "sha256sum",
  "base64",
  "diff",
  "cmp",
  "jq",
  "paste",
  "comm",
  "join",
  "fold",
  "expand",
  "strings",
  "column",
  "tr",
  "head",
  "tail",
  "wc",
];

/** Refuses, naming the operand, when any argument is a file too large to load; undefined otherwise. */
function refuseLarge(command: string): Streamed {
  return async (args, ctx, fs) => {
    for (const arg of args) {
      if (arg.startsWith("-") || arg === "") continue;
      const stat = await fs.stat(fs.resolvePath(ctx.cwd, arg)).catch(() => undefined);
      if (stat?.isFile && stat.size > WHOLE_FILE_MAX_BYTES) {
        return { stdout: "", stderr: `${command}: ${arg}: ${tooLargeReason(stat.size)}\n`, exitCode: 1 };
      }
    }
    return undefined;
  };
}

interface Operand {
  name: string;
  source: ByteSource;
}

/** The operands as byte sources, when at least one is large (undefined otherwise, or if one cannot be opened). */
async function largeOperands(
  files: readonly string[],
  ctx: CommandContext,
  fs: IFileSystem & RangedFs,
): Promise<Operand[] | undefined> {
  const operands: Operand[] = [];
  let large = false;
  for (const name of files) {
    const path = fs.resolvePath(ctx.cwd, name);
    const stat = await fs.stat(path).catch(() => undefined);
    if (!stat?.isFile) return undefined; // the usual command reports it
    large ||= stat.size > WHOLE_FILE_MAX_BYTES;
    operands.push({ name, source: { size: stat.size, read: (offset, length) => fs.readRange(path, offset, length) } });
  }
  return large ? operands : undefined;
}

function tooMuch(command: string): ExecResult {
  return {
    stdout: "",
    stderr:
      `${command}: output would pass ${formatBytes(STREAM_OUTPUT_MAX_BYTES)} on a file this large; ` +
      "ask for fewer lines, or a range with sed -n 'FROM,TOp'\n",
    exitCode: 1,
  };
}

/** `sed -n 'A,Bp' FILE` on a large file: the lines' byte range, read directly. */
async function streamSed(args: string[], ctx: CommandContext, fs: IFileSystem & RangedFs) {
  const range = parseSedRange(args);
  const operands = range ? await largeOperands([range.file], ctx, fs) : undefined;
  if (!range || !operands) return refuseLarge("sed")(args, ctx, fs);
  const { source } = operands[0] as Operand;
  const from = await afterNthNewline(source, range.from - 1);
  const to = Number.isFinite(range.to) ? await afterNthNewline(source, range.to) : source.size;
  if (to - from > STREAM_OUTPUT_MAX_BYTES) return tooMuch("sed");
  return { stdout: decoder.decode(await source.read(from, Math.max(0, to - from))), stderr: "", exitCode: 0 };
}

async function headTail(
  command: "head" | "tail",
  args: string[],
  ctx: CommandContext,
  fs: IFileSystem & RangedFs,
  range: (source: ByteSource, options: HeadTailOptions) => Promise<[number, number]>,
): Promise<ExecResult | undefined> {
  const options = parseHeadTail(args);
  if (!options) return undefined;
  const operands = await largeOperands(options.files, ctx, fs);
  if (!operands) return undefined;
  const ranges: [number, number][] = [];
  let total = 0;
  for (const operand of operands) {
    const [from, to] = await range(operand.source, options);
    ranges.push([from, to]);
    total += to - from;
  }
  if (total > STREAM_OUTPUT_MAX_BYTES) return tooMuch(command);
  let stdout = "";
  for (const [index, operand] of operands.entries()) {
    const [from, to] = ranges[index] as [number, number];
    if (operands.length > 1) stdout += `${index > 0 ? "\n" : ""}==> ${operand.name} <==\n`;
    stdout += decoder.decode(await operand.source.read(from, to - from));
  }
  return { stdout, stderr: "", exitCode: 0 };
}

function streamHead(args: string[], ctx: CommandContext, fs: IFileSystem & RangedFs) {
  return headTail("head", args, ctx, fs, async (source, options) => {
    if (options.unit === "bytes") return [0, Math.min(source.size, options.count)];
    return [0, await afterNthNewline(source, options.count)];
  });
}

function streamTail(args: string[], ctx: CommandContext, fs: IFileSystem & RangedFs) {
  return headTail("tail", args, ctx, fs, async (source, options) => {
    if (options.unit === "bytes") {
      const from = options.fromStart ? Math.max(0, options.count - 1) : Math.max(0, source.size - options.count);
      return [Math.min(from, source.size), source.size];
    }
    if (options.fromStart) return [await afterNthNewline(source, Math.max(0, options.count - 1)), source.size];
    return [await startOfLastLines(source, options.count), source.size];
  });
}

/** The offset just past the `n`-th newline (the end of the file when it has fewer). */
async function afterNthNewline(source: ByteSource, n: number): Promise<number> {
  if (n === 0) return 0;
  let seen = 0;
  for (let at = 0; at < source.size; ) {
    const chunk = await source.read(at, RANGE_READ_BYTES);
    if (chunk.byteLength === 0) break;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      if (++seen === n) return at + i + 1;
    }
    at += chunk.byteLength;
  }
  return source.size;
}

/** Where the last `n` lines start, found by reading backwards from the end. */
async function startOfLastLines(source: ByteSource, n: number): Promise<number> {
  if (n === 0) return source.size;
  // A final newline ends the last line: it does not count as a line boundary.
  const last = await source.read(source.size - 1, 1);
  let skipFinal = last[0] === NEWLINE;
  let seen = 0;
  for (let end = source.size; end > 0; ) {
    const start = Math.max(0, end - RANGE_READ_BYTES);
    const chunk = await source.read(start, end - start);
    for (let i = chunk.lastIndexOf(NEWLINE); i !== -1; i = i > 0 ? chunk.lastIndexOf(NEWLINE, i - 1) : -1) {
      if (skipFinal) {
        skipFinal = false;
        continue;
      }
      if (++seen === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

const WHITESPACE = new Set([9, 10, 11, 12, 13, 32]);

async function streamWc(args: string[], ctx: CommandContext, fs: IFileSystem & RangedFs) {
  const options = parseWc(args);
  if (!options) return undefined;
  const operands = await largeOperands(options.files, ctx, fs);
  if (!operands) return undefined;
  const rows: { counts: Record<WcCount, number>; name: string }[] = [];
  for (const operand of operands)
    rows.push({ counts: await countAll(operand.source, options.counts), name: operand.name });
  if (rows.length > 1) {
    const total: Record<WcCount, number> = { l: 0, w: 0, m: 0, c: 0 };
    for (const row of rows) for (const key of options.counts) total[key] += row.counts[key];
    rows.push({ counts: total, name: "total" });
  }
  // GNU's widths: one count of one file bare; otherwise the digits of the inputs' total size.
  const totalSize = operands.reduce((sum, operand) => sum + operand.source.size, 0);
  const width = options.counts.length === 1 && operands.length === 1 ? 1 : Math.max(1, String(totalSize).length);
  const stdout = rows
    .map((row) => `${options.counts.map((key) => String(row.counts[key]).padStart(width)).join(" ")} ${row.name}\n`)
    .join("");
  return { stdout, stderr: "", exitCode: 0 };
}

async function countAll(source: ByteSource, wanted: readonly WcCount[]): Promise<Record<WcCount, number>> {
  const counts: Record<WcCount, number> = { l: 0, w: 0, m: 0, c: source.size };
  const words = wanted.includes("w");
  const chars = wanted.includes("m");
  let inWord = false;
  for (let at = 0; at < source.size; ) {
    const chunk = await source.read(at, RANGE_READ_BYTES);
    if (chunk.byteLength === 0) break;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) counts.l++;
    if (words || chars) {
      for (const byte of chunk) {
        if (chars && (byte & 0xc0) !== 0x80) counts.m++;
        if (!words) continue;
        const space = WHITESPACE.has(byte);
        if (!space && !inWord) counts.w++;
        inWord = !space;
      }
    }
    at += chunk.byteLength;
  }
  return counts;
}

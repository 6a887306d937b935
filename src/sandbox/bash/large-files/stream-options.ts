/**
 * The forms of head, tail and wc that run on files too large to load (SqliteFs refuses to read
 * those whole): counts and flags parsed here, the reading in stream-commands.ts. Anything else
 * returns undefined and goes to the usual command.
 */

export interface HeadTailOptions {
  unit: "lines" | "bytes";
  count: number;
  /** tail -n +K: from line (or byte) K to the end. */
  fromStart: boolean;
  files: string[];
}

export function parseHeadTail(args: readonly string[]): HeadTailOptions | undefined {
  const options: HeadTailOptions = { unit: "lines", count: 10, fromStart: false, files: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = /^(?:-([nc])|--(lines|bytes)=?)(.*)$/.exec(arg);
    let value: string | undefined;
    if (flag) {
      options.unit = flag[1] === "c" || flag[2] === "bytes" ? "bytes" : "lines";
      value = flag[3] || args[++i];
    } else if (/^-\d+$/.test(arg)) {
      value = arg.slice(1);
    } else if (arg === "--" || arg === "-" || arg.startsWith("-")) {
      return undefined;
    } else {
      options.files.push(arg);
      continue;
    }
    const number = /^(\+)?(\d+)$/.exec(value ?? "");
    if (!number) return undefined;
    options.fromStart = number[1] === "+";
    options.count = Number(number[2]);
  }
  return options.files.length > 0 ? options : undefined;
}

export type WcCount = "l" | "w" | "m" | "c";

/** GNU's column order. */
export const WC_ORDER: readonly WcCount[] = ["l", "w", "m", "c"];

const WC_LONG: Record<string, WcCount> = { "--lines": "l", "--words": "w", "--chars": "m", "--bytes": "c" };

export function parseWc(args: readonly string[]): { counts: WcCount[]; files: string[] } | undefined {
  const asked = new Set<WcCount>();
  const files: string[] = [];
  for (const arg of args) {
    const long = WC_LONG[arg];
    if (long) asked.add(long);
    else if (/^-[lwmc]+$/.test(arg)) for (const letter of arg.slice(1)) asked.add(letter as WcCount);
    else if (arg.startsWith("-")) return undefined;
    else files.push(arg);
  }
  if (files.length === 0) return undefined;
  const counts = asked.size === 0 ? (["l", "w", "c"] as WcCount[]) : WC_ORDER.filter((count) => asked.has(count));
  return { counts, files };
}

/** `sed -n 'Np'`, `sed -n 'A,Bp'`, `sed -n 'A,$p'` on one file: the 1-based inclusive lines to print. */
export function parseSedRange(args: readonly string[]): { from: number; to: number; file: string } | undefined {
  if (args.length !== 3 || args[0] !== "-n") return undefined;
  const range = /^(\d+)(?:,(\d+|\$))?p$/.exec(args[1] as string);
  const file = args[2] as string;
  if (!range || file.startsWith("-")) return undefined;
  const from = Number(range[1]);
  const to = range[2] === undefined ? from : range[2] === "$" ? Number.POSITIVE_INFINITY : Number(range[2]);
  return from >= 1 ? { from, to, file } : undefined;
}

import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { byteLength, cutToBytes, formatBytes } from "./truncate.ts";

/** `[start_line, end_line]`, 1-based and inclusive; an end of -1 means "to the end of the file". */
export const ViewRangeSchema = z.array(z.int()).length(2, "must be [start_line, end_line]");

/** Lines around an edit shown back to the model so it can check the result. */
const SNIPPET_CONTEXT_LINES = 4;

/** A file's lines the way `cat -n` counts them: a final newline ends the last line, it does not start one. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function numberLine(lineNumber: number, line: string): string {
  return `${String(lineNumber).padStart(6, " ")}\t${line}`;
}

/** Picks the lines a view_range asks for, refusing ranges outside the file with Claude's wording. */
export function selectRange(lines: string[], range: number[] | undefined): { first: number; lines: string[] } {
  if (!range) return { first: 1, lines };
  const { first, last } = checkRange(range, lines.length);
  return { first, lines: lines.slice(first - 1, last) };
}

/** The 1-based inclusive lines a view_range names in a file of `n` lines, or Claude's refusal. */
export function checkRange(range: number[], n: number): { first: number; last: number } {
  const [start = 1, end = -1] = range;
  const shown = `[${start}, ${end}]`;
  if (start < 1 || start > n) {
    throw new TetherError(
      "bad_request",
      `Invalid \`view_range\`: ${shown}. Its first element \`${start}\` should be within the range of lines of the file: [1, ${n}]`,
    );
  }
  if (end > n) {
    throw new TetherError(
      "bad_request",
      `Invalid \`view_range\`: ${shown}. Its second element \`${end}\` should be smaller than the number of lines in the file: \`${n}\``,
    );
  }
  if (end !== -1 && end < start) {
    throw new TetherError(
      "bad_request",
      `Invalid \`view_range\`: ${shown}. Its second element \`${end}\` should be larger or equal than its first \`${start}\``,
    );
  }
  return { first: start, last: end === -1 ? n : end };
}

/**
 * Numbers lines like `cat -n` (6-wide right-aligned number, tab, text) and stops before the output
 * would pass `maxBytes`, saying which lines were shown and how to read on. Lines are added one at a
 * time, so a file read in chunks never has to be held whole.
 */
export class NumberedLines {
  private readonly maxBytes: number;
  private readonly out: string[] = [];
  private bytes = 0;
  private first: number | undefined;
  /** Set once the cap is reached: the text so far, with what to say about the cut. */
  private cut: { text: string } | { lastShown: number } | undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Adds line `lineNumber`; false once the output is full (later lines are not shown). */
  add(lineNumber: number, line: string): boolean {
    if (this.cut) return false;
    this.first ??= lineNumber;
    const numbered = numberLine(lineNumber, line);
    const cost = byteLength(numbered) + (this.out.length > 0 ? 1 : 0);
    if (this.bytes + cost <= this.maxBytes) {
      this.out.push(numbered);
      this.bytes += cost;
      return true;
    }
    if (this.out.length === 0) {
      // A single line longer than the cap: show its start rather than nothing.
      const cut = cutToBytes(numbered, this.maxBytes);
      this.cut = { text: `${cut.text}\n[line ${lineNumber} alone is longer than ${formatBytes(this.maxBytes)}]` };
    } else {
      this.cut = { lastShown: lineNumber - 1 };
    }
    return false;
  }

  get full(): boolean {
    return this.cut !== undefined;
  }

  finish(totalLines: number): { text: string; truncated: boolean } {
    if (!this.cut) return { text: this.out.join("\n"), truncated: false };
    if ("text" in this.cut) return { text: this.cut.text, truncated: true };
    const last = this.cut.lastShown;
    const marker =
      `[output truncated at ${formatBytes(this.maxBytes)}: showing lines ${this.first}-${last} of ${totalLines}; ` +
      `use view_range [${last + 1}, -1] to read on]`;
    return { text: `${this.out.join("\n")}\n${marker}`, truncated: true };
  }
}

export function numberLines(
  lines: string[],
  first: number,
  totalLines: number,
  maxBytes: number,
): { text: string; truncated: boolean } {
  const numbered = new NumberedLines(maxBytes);
  for (let i = 0; i < lines.length && numbered.add(first + i, lines[i] ?? ""); i++);
  return numbered.finish(totalLines);
}

/**
 * Numbered lines of `text` around a change that starts on 0-based line `line` and spans `spanLines`
 * lines; `firstLineNumber` is the number of the text's first line (it may be a window of a file).
 */
export function snippetAround(text: string, line: number, spanLines: number, firstLineNumber = 1): string {
  const lines = splitLines(text);
  const from = Math.max(0, line - SNIPPET_CONTEXT_LINES);
  const to = Math.min(lines.length, line + spanLines + SNIPPET_CONTEXT_LINES);
  return lines
    .slice(from, to)
    .map((l, i) => numberLine(firstLineNumber + from + i, l))
    .join("\n");
}

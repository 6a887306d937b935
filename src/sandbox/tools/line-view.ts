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
  const [start = 1, end = -1] = range;
  const n = lines.length;
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
  return { first: start, lines: lines.slice(start - 1, end === -1 ? n : end) };
}

/**
 * Numbers lines like `cat -n` (6-wide right-aligned number, tab, text) and stops before the output
 * would pass `maxBytes`, saying which lines were shown and how to read on.
 */
export function numberLines(
  lines: string[],
  first: number,
  totalLines: number,
  maxBytes: number,
): { text: string; truncated: boolean } {
  const out: string[] = [];
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const numbered = numberLine(first + i, lines[i] ?? "");
    const cost = byteLength(numbered) + (out.length > 0 ? 1 : 0);
    if (bytes + cost > maxBytes) {
      if (out.length === 0) {
        // A single line longer than the cap: show its start rather than nothing.
        const cut = cutToBytes(numbered, maxBytes);
        return { text: `${cut.text}\n[line ${first} alone is longer than ${formatBytes(maxBytes)}]`, truncated: true };
      }
      const last = first + out.length - 1;
      const marker =
        `[output truncated at ${formatBytes(maxBytes)}: showing lines ${first}-${last} of ${totalLines}; ` +
        `use view_range [${last + 1}, -1] to read on]`;
      return { text: `${out.join("\n")}\n${marker}`, truncated: true };
    }
    out.push(numbered);
    bytes += cost;
  }
  return { text: out.join("\n"), truncated: false };
}

/** Numbered lines of `text` around a change that starts on 0-based line `line` and spans `spanLines` lines. */
export function snippetAround(text: string, line: number, spanLines: number): string {
  const lines = splitLines(text);
  const from = Math.max(0, line - SNIPPET_CONTEXT_LINES);
  const to = Math.min(lines.length, line + spanLines + SNIPPET_CONTEXT_LINES);
  return lines
    .slice(from, to)
    .map((l, i) => numberLine(from + i + 1, l))
    .join("\n");
}

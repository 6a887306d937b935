/** How many times `needle` occurs in `text` (non-overlapping), and the 1-based line each occurrence starts on. */
export function findOccurrences(text: string, needle: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
    for (let i = scanned; i < at; i++) if (text.charCodeAt(i) === 10) line++;
    scanned = at;
    lines.push(line);
  }
  return lines;
}

/** Lists line numbers for an error message, eliding the middle of very long lists. */
export function formatLineList(lines: number[]): string {
  const shown = lines.length > 20 ? [...lines.slice(0, 20).map(String), "…"] : lines.map(String);
  return shown.join(", ");
}

/**
 * Replaces every occurrence literally. `String.prototype.replaceAll` with a string replacement would
 * expand `$&`, `$1`, ... in the new text, which source code often contains.
 */
export function replaceLiteral(text: string, oldText: string, newText: string): string {
  return text.split(oldText).join(newText);
}

/** Number of newlines in `text`: how many lines a replacement spans beyond its first. */
export function countNewlines(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

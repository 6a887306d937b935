import type { IFileSystem } from "just-bash";
import { openByteSource } from "../fs/large-files.ts";
import { LineReader, looksBinarySource } from "../fs/line-reader.ts";
import { checkRange, NumberedLines } from "./line-view.ts";

export type FileView = { kind: "binary" } | { kind: "empty" } | { kind: "lines"; text: string; truncated: boolean };

/**
 * A file's lines numbered like `cat -n`, the view_range `range` of them (all when absent), capped at
 * `maxBytes`. The file is read a chunk at a time and lines past the range or the cap are only
 * counted, so viewing any part of a file of any size holds one chunk; the count is what the range
 * is checked against and what the truncation marker reports.
 */
export async function viewFile(
  fs: IFileSystem,
  path: string,
  size: number,
  range: number[] | undefined,
  maxBytes: number,
): Promise<FileView> {
  const source = await openByteSource(fs, path, size);
  if (await looksBinarySource(source)) return { kind: "binary" };
  const [start = 1, end = -1] = range ?? [];
  const wantedTo = end === -1 ? Number.POSITIVE_INFINITY : end;
  const reader = new LineReader(source);
  const numbered = new NumberedLines(maxBytes);
  let lineNumber = 0;
  for (let batch = await reader.next(); batch; batch = await reader.next()) {
    for (const line of batch) {
      lineNumber++;
      if (lineNumber >= start && lineNumber <= wantedTo) numbered.add(lineNumber, line);
    }
    if (numbered.full || lineNumber >= wantedTo) break;
  }
  const total = lineNumber + (await reader.countRest());
  if (total === 0) return { kind: "empty" };
  if (range) checkRange(range, total);
  return { kind: "lines", ...numbered.finish(total) };
}

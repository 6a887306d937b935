import type { IFileSystem } from "just-bash";
import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { openByteSource } from "../fs/large-files.ts";
import { LineReader, looksBinarySource } from "../fs/line-reader.ts";
import { compileLinearRegex, type LinearRegex, linearRegexProblem } from "../regex/linear-regex.ts";
import { WORKDIR } from "./context.ts";
import { PathSchema, resolveToolPath, statOrNull } from "./files.ts";
import { defineTool } from "./tool.ts";
import { byteLength, formatBytes, KIB } from "./truncate.ts";
import { walk } from "./walk.ts";

/** Reference limit of the Managed Agents toolset. */
export const GREP_MAX_BYTES = 100 * KIB;
/** A matching line longer than this (minified code, data) is cut so one line cannot fill the output. */
export const GREP_MAX_LINE_CHARS = 2000;

export const GrepInputSchema = z.object({
  pattern: z
    .string()
    .min(1, "must not be empty")
    .superRefine((pattern, ctx) => {
      const problem = linearRegexProblem(pattern);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe("Regular expression (JavaScript syntax, run on a linear-time engine: no backreferences or lookaround)"),
  path: PathSchema.optional().describe("File or directory to search (default /workspace)"),
});
export type GrepInput = z.infer<typeof GrepInputSchema>;

export const grepTool = defineTool({
  name: "grep",
  description:
    "Search file contents with a regular expression. Prints `path:line:text` for each matching line, " +
    "recursing into directories and skipping binary files; output is capped at 100 KiB. Files are read a " +
    "chunk at a time; a line over 1 MiB is matched on its first MiB.",
  inputSchema: GrepInputSchema,
  async run(input, ctx) {
    const regex: LinearRegex = compileLinearRegex(input.pattern);
    const root = resolveToolPath(ctx.fs, input.path ?? WORKDIR);
    const rootStat = await statOrNull(ctx.fs, root);
    if (!rootStat) throw new TetherError("not_found", `path not found: ${root}`);

    const out: string[] = [];
    let bytes = 0;
    for await (const file of filesUnder(ctx.fs, root, rootStat.isDirectory)) {
      // Read a chunk at a time: a file of any size costs one chunk of memory.
      const source = await openByteSource(ctx.fs, file, (await ctx.fs.stat(file)).size);
      if (await looksBinarySource(source)) continue;
      const reader = new LineReader(source);
      let lineNumber = 0;
      for (let batch = await reader.next(); batch; batch = await reader.next()) {
        for (const line of batch) {
          lineNumber++;
          if (!regex.test(line)) continue;
          const entry = `${file}:${lineNumber}:${clip(line)}`;
          const cost = byteLength(entry) + 1;
          if (bytes + cost > GREP_MAX_BYTES) {
            out.push(
              `[output truncated at ${formatBytes(GREP_MAX_BYTES)}; more matches not shown, narrow the pattern or path]`,
            );
            return { text: out.join("\n"), truncated: true };
          }
          out.push(entry);
          bytes += cost;
        }
      }
    }
    if (out.length === 0) return { text: `No matches for /${input.pattern}/ in ${root}` };
    return { text: out.join("\n") };
  },
});

async function* filesUnder(fs: IFileSystem, root: string, isDirectory: boolean): AsyncGenerator<string> {
  if (!isDirectory) {
    yield root;
    return;
  }
  // Symlinks are skipped: their targets are searched where they live, once.
  for await (const entry of walk(fs, root)) if (entry.isFile && !entry.isSymbolicLink) yield entry.path;
}

function clip(line: string): string {
  return line.length <= GREP_MAX_LINE_CHARS
    ? line
    : `${line.slice(0, GREP_MAX_LINE_CHARS)}… [line cut at ${GREP_MAX_LINE_CHARS} characters]`;
}

import type { IFileSystem } from "just-bash";
import picomatch from "picomatch/posix.js";
import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { compileGlob } from "../regex/glob-regex.ts";
import { WORKDIR } from "./context.ts";
import { PathSchema, resolveToolPath, statOrNull } from "./files.ts";
import { defineTool } from "./tool.ts";
import { walk } from "./walk.ts";

/** Reference limit of the Managed Agents toolset. */
export const GLOB_MAX_RESULTS = 200;

export const GlobInputSchema = z.object({
  pattern: z
    .string()
    .min(1, "must not be empty")
    .superRefine((pattern, ctx) => {
      try {
        compileGlob(pattern);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      }
    })
    .describe('Glob pattern, e.g. "**/*.ts" or "src/*.json"'),
  path: PathSchema.optional().describe("Directory to search from (default /workspace)"),
});
export type GlobInput = z.infer<typeof GlobInputSchema>;

export const globTool = defineTool({
  name: "glob",
  description:
    "Find files whose path matches a glob pattern (relative to `path`, or absolute). Returns at most 200 " +
    "sorted absolute paths.",
  inputSchema: GlobInputSchema,
  async run(input, ctx) {
    const root = resolveToolPath(ctx.fs, input.path ?? WORKDIR);
    const rootStat = await statOrNull(ctx.fs, root);
    if (!rootStat) throw new TetherError("not_found", `directory not found: ${root}`);
    if (!rootStat.isDirectory) throw new TetherError("bad_request", `${root} is not a directory`);
    const { first, total } = await matchFiles(ctx.fs, root, input.pattern);
    if (total === 0) return { text: `No files found matching ${input.pattern} in ${root}` };
    if (total <= GLOB_MAX_RESULTS) return { text: first.join("\n") };
    return {
      text: `${first.join("\n")}\n[showing the first ${GLOB_MAX_RESULTS} of ${total} matches; narrow the pattern or path]`,
      truncated: true,
    };
  },
});

/**
 * The pattern splits into a literal base ("src" in "src/**\/*.ts", possibly absolute or with "..") and
 * a glob part. The walk starts at the base and, without a globstar, stops at the glob's depth, so a
 * narrow pattern never walks the whole tree.
 */
async function matchFiles(fs: IFileSystem, root: string, pattern: string): Promise<{ first: string[]; total: number }> {
  const { base, glob, isGlob } = picomatch.scan(pattern);
  const start = base ? resolveToolPath(fs, base.startsWith("/") ? base : `${root}/${base}`) : root;
  const startStat = await statOrNull(fs, start);
  if (!isGlob) return startStat?.isFile ? { first: [start], total: 1 } : { first: [], total: 0 };
  if (!startStat?.isDirectory) return { first: [], total: 0 };
  const matcher = compileGlob(glob); // linear time: picomatch's RegExp can backtrack for minutes
  const isMatch = (path: string) => matcher.test(path);
  const depth = glob.includes("**") ? Number.POSITIVE_INFINITY : glob.split("/").length;
  const prefix = start === "/" ? 1 : start.length + 1;
  // Only the first GLOB_MAX_RESULTS in sort order are kept (a tree may hold a million files).
  let kept: string[] = [];
  let total = 0;
  for await (const entry of walk(fs, start, depth)) {
    if (entry.isDirectory || !isMatch(entry.path.slice(prefix))) continue;
    total++;
    kept.push(entry.path);
    if (kept.length >= 2 * GLOB_MAX_RESULTS) kept = kept.sort().slice(0, GLOB_MAX_RESULTS);
  }
  return { first: kept.sort().slice(0, GLOB_MAX_RESULTS), total };
}

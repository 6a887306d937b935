import { z } from "zod";
import { TetherError } from "../../errors/tether-error.ts";
import { BASH_MAX_OUTPUT_BYTES } from "./bash.ts";
import { commandText } from "./command-output.ts";
import type { RunCodeResult } from "./context.ts";
import { defineTool } from "./tool.ts";
import { capOutput } from "./truncate.ts";

/** Longest timeout a run may ask for; run_code's own default (30 s) applies when none is given. */
export const RUN_CODE_MAX_TIMEOUT_MS = 300_000;

export const RunCodeInputSchema = z.object({
  code: z.string().min(1, "must not be empty").describe("Body of an async function: await and return work"),
  language: z.literal("javascript").default("javascript").describe('Only "javascript"'),
  timeout_ms: z.int().positive().max(RUN_CODE_MAX_TIMEOUT_MS).optional().describe("Timeout (default 30000)"),
});
export type RunCodeToolInput = z.output<typeof RunCodeInputSchema>;

export const runCodeTool = defineTool({
  name: "run_code",
  description:
    "Run JavaScript in a fresh isolate. The code is the body of an async function (top-level await; " +
    "return a value or end with an expression to get a result). console output is captured; a `files` " +
    "global reads and writes the sandbox's files; fetch is refused unless the sandbox allows the host.",
  inputSchema: RunCodeInputSchema,
  async run(input, ctx) {
    if (!ctx.runCode) throw new TetherError("internal", "run_code is not available in this sandbox");
    const result = await ctx.runCode({
      code: input.code,
      language: input.language,
      ...(input.timeout_ms ? { timeout_ms: input.timeout_ms } : {}),
    });
    if (result.timedOut) {
      const out = commandText(result.stdout, result.stderr, result.error ?? "timed out", BASH_MAX_OUTPUT_BYTES);
      return { ...out, isError: true, errorKind: "timeout" };
    }
    // Code that throws ran fine as far as the tool is concerned, like a command exiting non-zero.
    const out = commandText(result.stdout, result.stderr, trailer(result), BASH_MAX_OUTPUT_BYTES);
    return { ...out, exitCode: result.error ? 1 : 0 };
  },
});

/** What follows the console output: refused requests, then the error or the returned value. */
function trailer(result: RunCodeResult): string | undefined {
  const lines: string[] = [];
  if (result.networkRefused.length > 0) {
    lines.push(`network refused (not in the sandbox's network.allow list): ${result.networkRefused.join(", ")}`);
  }
  if (result.error) lines.push(`error: ${result.error}`);
  else if (result.result !== undefined) {
    lines.push(capOutput(`result: ${JSON.stringify(result.result)}`, BASH_MAX_OUTPUT_BYTES).text);
  }
  return lines.length > 0 ? lines.join("\n") : undefined;
}

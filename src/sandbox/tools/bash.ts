import { z } from "zod";
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from "../bash/bash-session.ts";
import { commandText } from "./command-output.ts";
import { defineTool } from "./tool.ts";
import { KIB } from "./truncate.ts";

/** Reference limit of the Managed Agents toolset: a bash result carries at most 100 KiB of output. */
export const BASH_MAX_OUTPUT_BYTES = 100 * KIB;

export const BashInputSchema = z
  .object({
    command: z.string().optional().describe("The command line to run"),
    restart: z.boolean().optional().describe("Start a fresh shell (cwd, variables and functions reset) first"),
    timeout_ms: z
      .int()
      .positive()
      .max(MAX_TIMEOUT_MS)
      .optional()
      .describe(`Timeout for this call (default ${DEFAULT_TIMEOUT_MS})`),
  })
  .superRefine((input, ctx) => {
    if (input.restart) return;
    if (input.command === undefined)
      ctx.addIssue({ code: "custom", path: ["command"], message: "required unless restart is true" });
    else if (input.command.trim() === "")
      ctx.addIssue({ code: "custom", path: ["command"], message: "must not be empty" });
  });
export type BashInput = z.infer<typeof BashInputSchema>;

export const bashTool = defineTool({
  name: "bash",
  description:
    "Run a command in the sandbox's persistent bash session (working directory /workspace at start). cd, " +
    "exported variables and functions persist between calls until restart. Output (stdout then stderr) is " +
    "capped at 100 KiB; a non-zero exit status is reported as `exit code: N`.",
  inputSchema: BashInputSchema,
  async run(input, ctx, onOutput) {
    const command = input.command ?? "";
    const result = await ctx.bash.run(
      {
        command,
        ...(input.restart ? { restart: true } : {}),
        ...(input.timeout_ms ? { timeout_ms: input.timeout_ms } : {}),
      },
      onOutput,
    );
    // The session caps output itself (with its own markers); cutting again would cut its markers off.
    // The cap here is for runners that do not.
    const cap = result.truncated ? Number.POSITIVE_INFINITY : BASH_MAX_OUTPUT_BYTES;
    if (result.failure) {
      const out = commandText(result.stdout, result.stderr, result.failure.message, cap);
      return { ...out, isError: true, errorKind: result.failure.kind, truncated: out.truncated || result.truncated };
    }
    const restarted = command.trim() === "" ? "shell restarted" : undefined;
    const trailer = result.exitCode !== 0 ? `exit code: ${result.exitCode}` : restarted;
    const out = commandText(result.stdout, result.stderr, trailer, cap);
    return { ...out, exitCode: result.exitCode, truncated: out.truncated || result.truncated };
  },
});

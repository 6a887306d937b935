/**
 * `bash` as the reference runner answers it, run in the sandbox's persistent shell.
 *
 * The command runs as `{ COMMAND\n} </dev/null >SCRATCH 2>&1`, the reference runner's own wrapping:
 * stdin is empty, stderr is merged into the same output, and the group keeps `cd` and variables in
 * the persistent shell. One difference remains that this layer cannot undo: the sandbox's shell
 * (just-bash) gathers a compound command's stdout and stderr separately, so the merged output holds
 * the group's stdout first and its stderr after it, where /bin/bash interleaves them as written.
 * Output up to 64 KiB comes back in the same call (scratch-output.ts); larger output is read back
 * from the scratch file, keeping only its last 100 KiB (`[output truncated]` first), as the
 * reference keeps the tail where the end of a long build log is. The sandbox's own answer text is
 * used whole only when the script never ran (a syntax error), without its exit-status line.
 *
 * Timeouts: the runner cuts every call at 120 s whatever `timeout_ms` asks for (its tool timeout),
 * and a timeout ends the reference's shell, so the next call starts fresh. The sandbox stops the
 * command at the deadline itself (its clock, or the work budget standing for it), and this layer
 * then restarts the shell and says so.
 */
import { stripAnsi } from "./ansi.ts";
import { errorResult, ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { ToolsetSandbox } from "./sandbox-target.ts";
import type { BashInput } from "./schemas.ts";
import { runCaptured } from "./scratch-output.ts";

/** The reference runner keeps the last 100 KiB of a command's output. */
export const BASH_OUTPUT_LIMIT = 100 * 1024;
/** The runner's tool timeout: no call runs longer, whatever timeout_ms says. */
export const BASH_MAX_TIMEOUT_MS = 120_000;
export const BASH_TRUNCATED_MARKER = "[output truncated]";
export const BASH_RESTARTED = "bash session restarted";

export async function runBash(sandbox: ToolsetSandbox, input: BashInput): Promise<ToolsetResult> {
  // The reference treats an empty command like a missing one.
  const command = input.command === "" ? undefined : input.command;
  if (command === undefined) {
    if (!input.restart) return errorResult(new ToolsetError("bash", "command is required"));
    await restartShell(sandbox);
    return textResult(BASH_RESTARTED);
  }
  const timeoutMs = bashTimeoutMs(input.timeout_ms);
  const run = await runCaptured(sandbox, command, {
    maxBytes: BASH_OUTPUT_LIMIT,
    timeoutMs,
    ...(input.restart ? { restart: true } : {}),
  });
  const result = run.result;
  const text = stripAnsi(run.ran ? run.output : withoutTrailer(run.output)).replace(/\n+$/, "");
  const output = run.dropped ? `${BASH_TRUNCATED_MARKER}\n${text}` : text;
  if (result.errorKind === "timeout") {
    await restartShell(sandbox);
    return errorResult(
      new ToolsetError(
        "bash",
        `bash command timed out after ${timeoutMs}ms; the shell was restarted (working directory, ` +
          "variables and functions reset)",
      ),
    );
  }
  if (result.errorKind === "limit") {
    // An execution limit (output size, string length, call depth) stopped the command: say which.
    const limit = result.text.split("\n").find((line) => line.startsWith("limit: ")) ?? result.text;
    return errorResult(new ToolsetError("bash", output === "" ? limit : `${output}\n${limit}`));
  }
  const exitCode = result.exitCode ?? (result.isError ? 1 : 0);
  if (exitCode !== 0) return textResult(output === "" ? `exit ${exitCode}` : output, true);
  return textResult(output);
}

/** The timeout a call runs with: what it asks for, never more than the runner's 120 s. */
export function bashTimeoutMs(requested: number | undefined): number {
  return Math.min(requested ?? BASH_MAX_TIMEOUT_MS, BASH_MAX_TIMEOUT_MS);
}

async function restartShell(sandbox: ToolsetSandbox): Promise<void> {
  const result = await sandbox.runTool("bash", { restart: true });
  if (result.isError) throw new Error(`the sandbox did not restart its shell: ${result.text}`);
}

/**
 * The sandbox's text without what it adds after the output: its `exit code: N` line, the stop
 * message of a timeout, and notes about the shell state it keeps.
 */
function withoutTrailer(text: string): string {
  if (text === "(no output)") return "";
  const lines = text.split("\n");
  while (lines.length > 0) {
    const last = lines.at(-1) ?? "";
    if (!/^(exit code: -?\d+|note: .*|timeout: .*|limit: .*|shell restarted)$/.test(last)) break;
    lines.pop();
  }
  return lines.join("\n");
}

/**
 * `bash` as the reference runner answers it, run in the sandbox's persistent shell session
 * (src/sandbox/bash/bash-session.ts), called in the object itself.
 *
 * The command runs as `:; { COMMAND\n} </dev/null 2>&1`, the reference runner's own wrapping:
 * stdin is empty, stderr is merged into the output, `$?` starts at 0, and the group keeps `cd` and
 * variables in the persistent shell. One difference remains: the sandbox's shell (just-bash)
 * gathers a command's stdout and stderr separately, so the output holds stdout first and stderr
 * after it, where /bin/bash interleaves them as written. The session hands back the whole output
 * (`uncapped`: it is in memory anyway, up to the shell's 32 MiB pipe limit), and only its last
 * 100 KiB are kept (`[output truncated]` first), as the reference keeps the tail where the end of
 * a long build log is; ANSI sequences and trailing newlines are stripped.
 *
 * Timeouts: the runner cuts every call at 120 s whatever `timeout_ms` asks for (its tool timeout),
 * and a timeout ends the reference's shell, so the next call starts fresh. The session stops the
 * command at the deadline itself (its clock, or the work budget standing for it), and this layer
 * then restarts the shell and says so. The call's signal (the runner giving the call up) stops the
 * command at its next statement, a `sleep` at once. A loop that never waits (no sleep, no I/O)
 * does not let the object take the abort in at all: it runs until its work budget stops it (about
 * a second for 20 s of timeout, measured here), as it holds back every other caller meanwhile.
 */
import { utf8Suffix } from "../../sandbox/fs/encoding.ts";
import { byteLength } from "../../sandbox/tools/truncate.ts";
import { stripAnsi } from "./ansi.ts";
import type { ToolsetContext } from "./context.ts";
import { errorResult, ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { BashInput } from "./schemas.ts";

/** The reference runner keeps the last 100 KiB of a command's output. */
export const BASH_OUTPUT_LIMIT = 100 * 1024;
/** The runner's tool timeout: no call runs longer, whatever timeout_ms says. */
export const BASH_MAX_TIMEOUT_MS = 120_000;
export const BASH_TRUNCATED_MARKER = "[output truncated]";
export const BASH_RESTARTED = "bash session restarted";

export async function runBash(ctx: ToolsetContext, input: BashInput): Promise<ToolsetResult> {
  // The reference treats an empty command like a missing one.
  const command = input.command === "" ? undefined : input.command;
  if (command === undefined) {
    if (!input.restart) return errorResult(new ToolsetError("bash", "command is required"));
    ctx.bash.restart();
    return textResult(BASH_RESTARTED);
  }
  const timeoutMs = bashTimeoutMs(input.timeout_ms);
  const result = await ctx.bash.run({
    command: `:; { ${command}\n} </dev/null 2>&1`,
    timeout_ms: timeoutMs,
    signal: ctx.signal,
    uncapped: true,
    ...(input.restart ? { restart: true } : {}),
  });
  const output = tail(result.stdout + result.stderr);
  if (result.failure?.kind === "timeout" && !ctx.signal.aborted) {
    ctx.bash.restart();
    return errorResult(
      new ToolsetError(
        "bash",
        `bash command timed out after ${timeoutMs}ms; the shell was restarted (working directory, ` +
          "variables and functions reset)",
      ),
    );
  }
  if (result.failure) {
    // An execution limit (output size, string length, call depth) stopped the command: say which.
    const why = result.failure.message;
    return errorResult(new ToolsetError("bash", output === "" ? why : `${output}\n${why}`));
  }
  if (result.exitCode !== 0) return textResult(output === "" ? `exit ${result.exitCode}` : output, true);
  return textResult(output);
}

/** The timeout a call runs with: what it asks for, never more than the runner's 120 s. */
export function bashTimeoutMs(requested: number | undefined): number {
  return Math.min(requested ?? BASH_MAX_TIMEOUT_MS, BASH_MAX_TIMEOUT_MS);
}

/** The last 100 KiB of the output (marked when cut), without ANSI sequences and trailing newlines. */
function tail(output: string): string {
  const cut = byteLength(output) > BASH_OUTPUT_LIMIT;
  const kept = stripAnsi(cut ? utf8Suffix(output, BASH_OUTPUT_LIMIT) : output).replace(/\n+$/, "");
  return cut ? `${BASH_TRUNCATED_MARKER}\n${kept}` : kept;
}

/**
 * `bash` as the reference runner answers it, run in the sandbox's persistent shell.
 *
 * The command runs as `{ COMMAND\n} </dev/null >SCRATCH 2>&1`, the reference runner's own wrapping:
 * stdin is empty, stderr is merged into the same output, and the group keeps `cd` and variables in
 * the persistent shell. One difference remains that this layer cannot undo: the sandbox's shell
 * (just-bash) gathers a compound command's stdout and stderr separately, so the merged output holds
 * the group's stdout first and its stderr after it, where /bin/bash interleaves them as written.
 * Output up to 64 KiB comes back in the same call (see wrapCommand); larger output is read back
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
import { decodeTail, readTail } from "./file-bytes.ts";
import { errorResult, ToolsetError, type ToolsetResult, textResult } from "./result.ts";
import type { ToolsetSandbox } from "./sandbox-target.ts";
import type { BashInput } from "./schemas.ts";

/** The reference runner keeps the last 100 KiB of a command's output. */
export const BASH_OUTPUT_LIMIT = 100 * 1024;
/** The runner's tool timeout: no call runs longer, whatever timeout_ms says. */
export const BASH_MAX_TIMEOUT_MS = 120_000;
export const BASH_TRUNCATED_MARKER = "[output truncated]";
export const BASH_RESTARTED = "bash session restarted";

/** Where a call's merged output goes; outside /workspace, removed once read. */
const SCRATCH_DIR = "/tmp";

export async function runBash(sandbox: ToolsetSandbox, input: BashInput): Promise<ToolsetResult> {
  // The reference treats an empty command like a missing one.
  const command = input.command === "" ? undefined : input.command;
  if (command === undefined) {
    if (!input.restart) return errorResult(new ToolsetError("bash", "command is required"));
    await restartShell(sandbox);
    return textResult(BASH_RESTARTED);
  }
  const timeoutMs = bashTimeoutMs(input.timeout_ms);
  const call = wrapCommand(command);
  const result = await sandbox.runTool("bash", {
    command: call.script,
    timeout_ms: timeoutMs,
    ...(input.restart ? { restart: true } : {}),
  });
  const output = await takeOutput(sandbox, call, result.text);
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
    // An execution limit (output size, string length, call depth) stopped the command.
    return errorResult(new ToolsetError("bash", output === "" ? result.text : `${output}\n${result.text}`));
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

/** Output this size or smaller comes back in the bash call's own answer; larger output is read from its file. */
const INLINE_MAX_BYTES = 64 * 1024;

interface WrappedCommand {
  script: string;
  /** Where the merged output is written. */
  scratch: string;
  /** Ends the inline output in the sandbox's answer; a flag after it says whether the output stayed in the file. */
  mark: string;
}

/**
 * The script the sandbox runs. After the command, output up to INLINE_MAX_BYTES is printed (and its
 * file removed) so the common call costs one round trip; the mark says which case it was, and the
 * command's own exit status is restored last. The mark is random, so no output can imitate it.
 * `:` before the command makes `$?` 0 inside it, as after the reference's own framing.
 */
function wrapCommand(command: string): WrappedCommand {
  const id = crypto.randomUUID().replaceAll("-", "");
  const scratch = `${SCRATCH_DIR}/.tether-bash-${id}`;
  const mark = `__tether_output_${id}__`;
  const script =
    `mkdir -p ${SCRATCH_DIR} 2>/dev/null; :; { ${command}\n} </dev/null >${scratch} 2>&1; __tether_status=$?; ` +
    `if [ $(wc -c <${scratch}) -le ${INLINE_MAX_BYTES} ]; then cat ${scratch}; rm -f ${scratch}; ` +
    `printf '\\n${mark}inline'; else printf '\\n${mark}file'; fi; (exit $__tether_status)`;
  return { script, scratch, mark };
}

/** The command's merged output (tail-capped, ANSI and trailing newlines stripped); the scratch file is removed. */
async function takeOutput(sandbox: ToolsetSandbox, call: WrappedCommand, answer: string): Promise<string> {
  const at = answer.lastIndexOf(`\n${call.mark}`);
  const inline = at !== -1 && answer.startsWith("inline", at + call.mark.length + 1);
  let text: string;
  let truncated = false;
  if (inline) {
    text = answer.slice(0, at);
  } else {
    // The output stayed in its file: too large to inline, or the command ended the script (`exit`).
    const file = await sandbox.openFile(call.scratch);
    if (file.ok) {
      const tail = await readTail(file.body, BASH_OUTPUT_LIMIT);
      await sandbox.removeFile(call.scratch);
      text = decodeTail(tail.bytes, tail.dropped);
      truncated = tail.dropped;
    } else {
      // Never written: the script did not parse, so the shell's complaint is the output.
      text = withoutTrailer(answer);
    }
  }
  const out = stripAnsi(text).replace(/\n+$/, "");
  return truncated ? `${BASH_TRUNCATED_MARKER}\n${out}` : out;
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

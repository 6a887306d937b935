/**
 * Running a shell fragment in the sandbox with its output captured whole: stdout and stderr merged
 * into a scratch file under /tmp, beyond the sandbox's own 100 KiB cap on a call's answer.
 *
 * Output up to INLINE_MAX_BYTES is printed back after the fragment (and its file removed), so the
 * common call costs one round trip; a random mark ends it and says whether the output stayed in
 * the file instead (too large, or the fragment ended the script with `exit`), in which case it is
 * read back with the sandbox's file API and removed. The fragment's own exit status is restored
 * last, so the sandbox reports it as the call's.
 */
import { decodeTail, readTail } from "./file-bytes.ts";
import type { SandboxToolResult, ToolsetSandbox } from "./sandbox-target.ts";

/** Inlined output stays well under the sandbox's 100 KiB answer cap, with room for its notes. */
export const INLINE_MAX_BYTES = 64 * 1024;
const SCRATCH_DIR = "/tmp";

export interface CapturedRun {
  result: SandboxToolResult;
  /** The merged output, or its last `maxBytes` when longer (`dropped` then). */
  output: string;
  dropped: boolean;
  /** False when the fragment never ran (the script did not parse): `output` is then the sandbox's answer. */
  ran: boolean;
}

export async function runCaptured(
  sandbox: ToolsetSandbox,
  fragment: string,
  options: { maxBytes: number; timeoutMs?: number; restart?: boolean },
): Promise<CapturedRun> {
  const id = crypto.randomUUID().replaceAll("-", "");
  const scratch = `${SCRATCH_DIR}/.tether-out-${id}`;
  const mark = `__tether_output_${id}__`;
  // `:` before the fragment makes `$?` 0 inside it, as after the reference runner's own framing.
  const script =
    `mkdir -p ${SCRATCH_DIR} 2>/dev/null; :; { ${fragment}\n} </dev/null >${scratch} 2>&1; __tether_status=$?; ` +
    `if [ $(wc -c <${scratch}) -le ${INLINE_MAX_BYTES} ]; then cat ${scratch}; rm -f ${scratch}; ` +
    `printf '\\n${mark}inline'; else printf '\\n${mark}file'; fi; (exit $__tether_status)`;
  const result = await sandbox.runTool("bash", {
    command: script,
    ...(options.timeoutMs !== undefined ? { timeout_ms: options.timeoutMs } : {}),
    ...(options.restart ? { restart: true } : {}),
  });
  const at = result.text.lastIndexOf(`\n${mark}`);
  if (at !== -1 && result.text.startsWith("inline", at + mark.length + 1)) {
    return { result, output: result.text.slice(0, at), dropped: false, ran: true };
  }
  const file = await sandbox.openFile(scratch);
  if (!file.ok) return { result, output: result.text, dropped: false, ran: false };
  const tail = await readTail(file.body, options.maxBytes);
  await sandbox.removeFile(scratch);
  return { result, output: decodeTail(tail.bytes, tail.dropped), dropped: tail.dropped, ran: true };
}

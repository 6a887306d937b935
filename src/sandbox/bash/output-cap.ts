/**
 * Caps a command's output (stdout and stderr together) at a byte budget. stdout comes first, but
 * stderr keeps up to STDERR_RESERVE of the budget even when stdout alone would fill it: the error at
 * the end of a long build log is usually what the caller needs. The cut stream ends with a marker
 * that gives the real total, e.g. `[output truncated: 1.2 MiB total, showing first 100 KiB]`.
 * Sizes are UTF-8 bytes, counted without copying the (possibly many-megabyte) output.
 */
import { byteLength, utf8Prefix } from "../fs/encoding.ts";
import { formatBytes } from "../fs/quota.ts";

export const DEFAULT_OUTPUT_CAP = 100 * 1024;
const STDERR_RESERVE = 16 * 1024;

export interface CappedOutput {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export function capOutput(stdout: string, stderr: string, cap = DEFAULT_OUTPUT_CAP): CappedOutput {
  const outBytes = byteLength(stdout);
  const errBytes = byteLength(stderr);
  const total = outBytes + errBytes;
  if (total <= cap) return { stdout, stderr, truncated: false };
  const errShare = Math.min(errBytes, Math.max(cap - outBytes, Math.min(STDERR_RESERVE, cap)));
  const outShare = cap - errShare;
  const marker = `\n[output truncated: ${formatBytes(total)} total, showing first ${formatBytes(cap)}]\n`;
  return {
    stdout: outBytes > outShare ? utf8Prefix(stdout, outShare) + marker : stdout,
    stderr: errBytes > errShare ? utf8Prefix(stderr, errShare) + marker : stderr,
    truncated: true,
  };
}

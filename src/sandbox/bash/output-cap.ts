/**
 * Caps a command's output (stdout and stderr together) at a byte budget. stdout comes first, but
 * stderr keeps up to STDERR_RESERVE of the budget even when stdout alone would fill it: the error at
 * the end of a long build log is usually what the caller needs. The cut stream ends with a marker
 * that gives the real total, e.g. `[output truncated: 1.2 MiB total, showing first 100 KiB]`.
 */
import { formatBytes } from "../fs/quota.ts";

export const DEFAULT_OUTPUT_CAP = 100 * 1024;
const STDERR_RESERVE = 16 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface CappedOutput {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export function capOutput(stdout: string, stderr: string, cap = DEFAULT_OUTPUT_CAP): CappedOutput {
  const out = encoder.encode(stdout);
  const err = encoder.encode(stderr);
  const total = out.byteLength + err.byteLength;
  if (total <= cap) return { stdout, stderr, truncated: false };
  const errShare = Math.min(err.byteLength, Math.max(cap - out.byteLength, Math.min(STDERR_RESERVE, cap)));
  const outShare = cap - errShare;
  const marker = `\n[output truncated: ${formatBytes(total)} total, showing first ${formatBytes(cap)}]\n`;
  const outCut = out.byteLength > outShare;
  const errCut = err.byteLength > errShare;
  return {
    stdout: outCut ? cutAt(out, outShare) + marker : stdout,
    stderr: errCut ? cutAt(err, errShare) + marker : stderr,
    truncated: true,
  };
}

/** The first `limit` bytes, backed off to a character boundary. */
function cutAt(bytes: Uint8Array, limit: number): string {
  let end = limit;
  while (end > 0 && end < bytes.byteLength && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

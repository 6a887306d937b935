/**
 * Caps a command's output (stdout and stderr together) at a byte budget. stdout comes first, but
 * stderr keeps up to STDERR_RESERVE of the budget even when stdout alone would fill it: the error at
 * the end of a long build log is usually what the caller needs. The cut stream ends with a marker
 * that gives the real total, e.g. `[output truncated: 1.2 MiB total, showing first 100 KiB]`.
 * Sizes are UTF-8 bytes, counted without copying the (possibly many-megabyte) output.
 */
import { byteLength } from "../fs/encoding.ts";
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
    stdout: outBytes > outShare ? prefixWithin(stdout, outShare) + marker : stdout,
    stderr: errBytes > errShare ? prefixWithin(stderr, errShare) + marker : stderr,
    truncated: true,
  };
}

function charBytes(code: number): number {
  return code < 0x80
    ? 1
    : code < 0x800
      ? 2
      : code >= 0xd800 && code <= 0xdbff
        ? 4
        : code >= 0xdc00 && code <= 0xdfff
          ? 0
          : 3;
}

/** The longest prefix of whole characters that fits in `limit` UTF-8 bytes. */
function prefixWithin(text: string, limit: number): string {
  let bytes = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const size = charBytes(text.charCodeAt(i));
    if (bytes + size > limit) break;
    bytes += size;
  }
  // Never split a surrogate pair: a high surrogate (4 bytes) is counted whole or not at all.
  return text.slice(0, i);
}

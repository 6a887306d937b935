import { byteLength } from "../fs/encoding.ts";
import { formatBytes } from "../fs/quota.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const KIB = 1024;

export { byteLength };

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character.
 * Returns the kept prefix and the text's full size in bytes.
 */
export function cutToBytes(text: string, maxBytes: number): { text: string; totalBytes: number } {
  // Most output fits: a count (no copy) settles it, and only a cut needs the bytes themselves.
  if (text.length <= maxBytes) {
    const totalBytes = byteLength(text);
    if (totalBytes <= maxBytes) return { text, totalBytes };
  }
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= maxBytes) return { text, totalBytes: bytes.byteLength };
  let end = Math.max(0, maxBytes);
  // Step back off UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: decoder.decode(bytes.subarray(0, end)), totalBytes: bytes.byteLength };
}

/**
 * Caps tool output at `maxBytes` and appends a visible marker giving the real size (the same
 * wording as the shell session's cap), so neither the model nor a person mistakes a cut result
 * for the whole.
 */
export function capOutput(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const cut = cutToBytes(text, maxBytes);
  if (cut.text.length === text.length) return { text, truncated: false };
  const sep = cut.text.endsWith("\n") || cut.text === "" ? "" : "\n";
  const marker = `[output truncated: ${formatBytes(cut.totalBytes)} total, showing first ${formatBytes(maxBytes)}]`;
  return { text: `${cut.text}${sep}${marker}`, truncated: true };
}

export { formatBytes };

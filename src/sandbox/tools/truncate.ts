import { byteLength, utf8Prefix } from "../fs/encoding.ts";
import { formatBytes } from "../fs/quota.ts";

export const KIB = 1024;

export { byteLength };

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character.
 * Returns the kept prefix and the text's full size in bytes.
 */
export function cutToBytes(text: string, maxBytes: number): { text: string; totalBytes: number } {
  const totalBytes = byteLength(text);
  return { text: totalBytes <= maxBytes ? text : utf8Prefix(text, maxBytes), totalBytes };
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

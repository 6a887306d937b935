const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const KIB = 1024;

export function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/** Human size for markers: whole KiB when exact, bytes otherwise. */
export function formatBytes(bytes: number): string {
  return bytes % KIB === 0 ? `${bytes / KIB} KiB` : `${bytes} bytes`;
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character.
 * Returns the kept prefix and how many bytes were dropped (0 when nothing was cut).
 */
export function cutToBytes(text: string, maxBytes: number): { text: string; omittedBytes: number } {
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= maxBytes) return { text, omittedBytes: 0 };
  let end = Math.max(0, maxBytes);
  // Step back off UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: decoder.decode(bytes.subarray(0, end)), omittedBytes: bytes.byteLength - end };
}

/**
 * Caps tool output at `maxBytes` and appends a visible marker saying how much was left out,
 * so neither the model nor a person mistakes a cut result for the whole.
 */
export function capOutput(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const cut = cutToBytes(text, maxBytes);
  if (cut.omittedBytes === 0) return { text, truncated: false };
  const sep = cut.text.endsWith("\n") || cut.text === "" ? "" : "\n";
  return {
    text: `${cut.text}${sep}[output truncated: ${cut.omittedBytes} more bytes not shown (limit ${formatBytes(maxBytes)})]`,
    truncated: true,
  };
}

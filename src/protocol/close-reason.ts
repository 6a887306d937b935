/**
 * WebSocket close reasons, as both ends of the tunnel send them: RFC 6455 allows at most 123
 * bytes of UTF-8, and a runtime throws (workerd) or fails the close (ws) on a longer one.
 */
export const MAX_CLOSE_REASON_BYTES = 123;

const ELLIPSIS = "...";

/**
 * The reason as it is when it fits; else cut at a character boundary (never inside a UTF-8
 * sequence or a surrogate pair) and marked with "...", within MAX_CLOSE_REASON_BYTES in all.
 */
export function truncateCloseReason(reason: string): string {
  if (utf8Length(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  const budget = MAX_CLOSE_REASON_BYTES - ELLIPSIS.length;
  let bytes = 0;
  let end = 0;
  for (const char of reason) {
    const size = utf8Length(char);
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return `${reason.slice(0, end)}${ELLIPSIS}`;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    // A lone surrogate is encoded as U+FFFD (3 bytes).
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

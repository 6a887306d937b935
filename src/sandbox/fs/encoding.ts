/**
 * Byte/text conversions for IFileSystem's encodings, with the same rules as just-bash's in-memory
 * filesystem (binary and latin1 map one char to one byte; utf8 is the default).
 */
import type { BufferEncoding } from "just-bash";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SPREAD_LIMIT = 0x8000;

/** IFileSystem passes an encoding either bare or as `{ encoding }`. */
export type EncodingOption = { encoding?: BufferEncoding | null } | BufferEncoding | null | undefined;

export function encodingOf(options: EncodingOption): BufferEncoding | undefined {
  if (options == null) return undefined;
  return typeof options === "string" ? options : (options.encoding ?? undefined);
}

export function toBytes(content: string | Uint8Array, encoding: BufferEncoding | undefined): Uint8Array {
  if (content instanceof Uint8Array) return content;
  switch (encoding) {
    case "base64":
      return latin1Bytes(atob(content));
    case "hex": {
      const out = new Uint8Array(content.length >> 1);
      for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(content.slice(i * 2, i * 2 + 2), 16);
      return out;
    }
    case "binary":
    case "latin1":
      return latin1Bytes(content);
    default:
      return encoder.encode(content);
  }
}

export function fromBytes(bytes: Uint8Array, encoding: BufferEncoding | undefined): string {
  switch (encoding) {
    case "base64":
      return btoa(latin1String(bytes));
    case "hex":
      return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    case "binary":
    case "latin1":
      return latin1String(bytes);
    default:
      return decoder.decode(bytes);
  }
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function latin1String(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += SPREAD_LIMIT)
    out += String.fromCharCode(...bytes.subarray(i, i + SPREAD_LIMIT));
  return out;
}

/**
 * The UTF-8 size of `text`, counted without encoding it (tools count every line they return, so
 * allocating a copy each time adds up). Matches TextEncoder: a lone surrogate is U+FFFD, 3 bytes.
 */
export function byteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 2; // the pair: 4 bytes for 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * The longest prefix of whole characters of `text` that fits in `maxBytes` UTF-8 bytes, each
 * character sized as byteLength sizes it (a surrogate pair is kept or cut as one), so output caps
 * cut without encoding the (possibly many-megabyte) text.
 */
export function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1));
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) return text.slice(0, i);
    bytes += size;
    if (pair) i++;
  }
  return text;
}

/**
 * The longest suffix of whole characters of `text` that fits in `maxBytes` UTF-8 bytes (sized as
 * utf8Prefix sizes them), for caps that keep the end of an output rather than its start.
 */
export function utf8Suffix(text: string, maxBytes: number): string {
  let bytes = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i);
    const pair = isLowSurrogate(code) && i > 0 && isHighSurrogate(text.charCodeAt(i - 1));
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) return text.slice(i + 1);
    bytes += size;
    if (pair) i--;
  }
  return text;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Builds zip archives in memory for tests, so a test states exactly which members a skill archive
 * holds, including the hostile ones (`../` paths, absolute paths, symlinks through the Unix mode in
 * the external attributes, sizes that lie, bombs). Members are stored unless `deflated` is given:
 * already raw-deflated bytes with the real size and CRC of what they inflate to.
 */
import { crc32, createDeflateRaw, deflateRawSync } from "node:zlib";

export interface ZipEntry {
  name: string;
  data: string | Uint8Array;
  /** Unix mode including the file type, e.g. 0o100755 (executable) or 0o120777 (symlink). */
  mode?: number;
  /** Deflate the data (method 8) instead of storing it. */
  compress?: boolean;
  /** Pre-deflated content (method 8), e.g. from deflatedZeros(); `data` is ignored. */
  deflated?: DeflatedData;
  /** The uncompressed size written in the headers, when a test wants it to lie. */
  declaredSize?: number;
}

export interface DeflatedData {
  bytes: Uint8Array;
  size: number;
  crc: number;
}

const encoder = new TextEncoder();

export function buildZip(entries: ZipEntry[]): Uint8Array<ArrayBuffer> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const plain = typeof entry.data === "string" ? encoder.encode(entry.data) : entry.data;
    const content: DeflatedData & { method: number } = entry.deflated
      ? { ...entry.deflated, method: 8 }
      : entry.compress
        ? { bytes: deflateRawSync(plain), size: plain.byteLength, crc: crc32(plain), method: 8 }
        : { bytes: plain, size: plain.byteLength, crc: crc32(plain), method: 0 };
    const size = entry.declaredSize ?? content.size;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true); // version needed
    local.setUint16(8, content.method, true);
    local.setUint32(14, content.crc, true);
    local.setUint32(18, content.bytes.byteLength, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.byteLength, true);
    locals.push(new Uint8Array(local.buffer), name, content.bytes);
    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, (3 << 8) | 20, true); // made by Unix, so the mode in the attributes counts
    central.setUint16(6, 20, true);
    central.setUint16(10, content.method, true);
    central.setUint32(16, content.crc, true);
    central.setUint32(20, content.bytes.byteLength, true);
    central.setUint32(24, size, true);
    central.setUint16(28, name.byteLength, true);
    central.setUint32(38, ((entry.mode ?? 0o100644) << 16) >>> 0, true);
    central.setUint32(42, offset, true);
    centrals.push(new Uint8Array(central.buffer), name);
    offset += 30 + name.byteLength + content.bytes.byteLength;
  }
  const centralSize = centrals.reduce((size, part) => size + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return concat([...locals, ...centrals, new Uint8Array(end.buffer)]);
}

/** `size` zero bytes raw-deflated, fed 1 MiB at a time (the zeros are never all in memory). */
export async function deflatedZeros(size: number): Promise<DeflatedData> {
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Uint8Array[] = [];
  deflate.on("data", (chunk: Buffer) => parts.push(chunk));
  const ended = new Promise((resolve, reject) => deflate.on("end", resolve).on("error", reject));
  const block = new Uint8Array(1024 * 1024);
  let crc = 0;
  for (let left = size; left > 0; left -= block.byteLength) {
    const piece = block.subarray(0, Math.min(left, block.byteLength));
    crc = crc32(piece, crc);
    if (!deflate.write(piece)) await new Promise((resolve) => deflate.once("drain", resolve));
  }
  deflate.end();
  await ended;
  return { bytes: concat(parts), size, crc };
}

export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

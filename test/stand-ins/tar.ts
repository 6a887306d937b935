/**
 * Builds ustar archives by hand for tests (a header block per member, data padded to 512 bytes, two
 * zero blocks at the end), so hostile members (absolute and `..` paths, links, devices, a size that
 * lies) can be written exactly.
 */
import { createGzip, gzipSync } from "node:zlib";
import { concat } from "./zip.ts";

export interface TarMember {
  name: string;
  data?: string | Uint8Array;
  mode?: number;
  /** Typeflag: "0" file, "1" hard link, "2" symlink, "3" char device, "5" directory. */
  type?: string;
  linkname?: string;
  /** The size written in the header, when a test wants it to lie. */
  declaredSize?: number;
}

const encoder = new TextEncoder();

export function tarHeader(member: TarMember, size: number): Uint8Array {
  const block = new Uint8Array(512);
  const put = (offset: number, length: number, value: string) =>
    block.set(encoder.encode(value).subarray(0, length), offset);
  const octal = (offset: number, length: number, value: number) =>
    put(offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
  put(0, 100, member.name);
  octal(100, 8, member.mode ?? 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 1_700_000_000);
  put(148, 8, "        ");
  put(156, 1, member.type ?? "0");
  put(157, 100, member.linkname ?? "");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

export function buildTar(members: TarMember[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const member of members) {
    const data = typeof member.data === "string" ? encoder.encode(member.data) : (member.data ?? new Uint8Array());
    parts.push(tarHeader(member, member.declaredSize ?? data.byteLength), data);
    const padding = (512 - (data.byteLength % 512)) % 512;
    parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(1024));
  return concat(parts);
}

export const gzip = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(gzipSync(bytes));

/** A gzip-compressed tar of one member holding `size` zero bytes, built 1 MiB at a time. */
export async function gzippedZeroTar(name: string, size: number): Promise<Uint8Array<ArrayBuffer>> {
  const gzipper = createGzip({ level: 9 });
  const parts: Uint8Array[] = [];
  gzipper.on("data", (chunk: Buffer) => parts.push(chunk));
  const ended = new Promise((resolve, reject) => gzipper.on("end", resolve).on("error", reject));
  const write = async (bytes: Uint8Array) => {
    if (!gzipper.write(bytes)) await new Promise((resolve) => gzipper.once("drain", resolve));
  };
  await write(tarHeader({ name }, size));
  const block = new Uint8Array(1024 * 1024);
  for (let left = size; left > 0; left -= block.byteLength)
    await write(block.subarray(0, Math.min(left, block.byteLength)));
  await write(new Uint8Array(((512 - (size % 512)) % 512) + 1024));
  gzipper.end();
  await ended;
  return concat(parts);
}

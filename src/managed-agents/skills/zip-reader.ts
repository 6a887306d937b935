/**
 * Reads a zip archive held in memory: the central directory lists members (name, kind from the Unix
 * mode when the archive was made on Unix), then each kept member is inflated on its own with
 * `DecompressionStream("deflate-raw")` (workerd and Node), counted chunk by chunk so a bomb stops at
 * the limit. The declared sizes are only an upper bound on what is accepted: a member that inflates
 * to more or less than it declares, or whose CRC-32 differs, refuses the archive. Zip64, encryption
 * and methods other than stored/deflate are refused (skills are small, plain archives).
 */
import {
  ArchiveError,
  type ExtractionBudget,
  type ListedMember,
  type MemberKind,
  readCounted,
  streamOf,
} from "./archive-members.ts";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MADE_BY_UNIX = 3;

export interface ZipMember extends ListedMember {
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  declaredSize: number;
  localOffset: number;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

/** Every member of the central directory, in order. */
export function listZip(bytes: Uint8Array): ZipMember[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  const count = view.getUint16(eocd + 10, true);
  const offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || offset === 0xffffffff) throw new ArchiveError("zip64 archives are not supported");
  const members: ZipMember[] = [];
  let at = offset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== CENTRAL) {
      throw new ArchiveError("zip central directory is corrupt");
    }
    const nameLength = view.getUint16(at + 28, true);
    const next = at + 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (next > view.byteLength) throw new ArchiveError("zip central directory is corrupt");
    const rawName = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const unixMode = view.getUint8(at + 5) === MADE_BY_UNIX ? view.getUint32(at + 38, true) >>> 16 : null;
    const dosDirectory = (view.getUint32(at + 38, true) & 0x10) !== 0;
    members.push({
      rawName,
      kind: kindOf(rawName, unixMode, dosDirectory),
      mode: unixMode === null ? null : unixMode & 0o7777,
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      declaredSize: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at = next;
  }
  return members;
}

/** The member's bytes, inflated under the budget and checked against its declared size and CRC. */
export async function readZipMember(
  bytes: Uint8Array<ArrayBuffer>,
  member: ZipMember,
  budget: ExtractionBudget,
): Promise<Uint8Array> {
  const name = JSON.stringify(member.rawName);
  if (member.flags & 1) throw new ArchiveError(`member ${name} is encrypted`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = member.localOffset;
  if (local + 30 > view.byteLength || view.getUint32(local, true) !== LOCAL) {
    throw new ArchiveError(`member ${name} has no local header`);
  }
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (start + member.compressedSize > bytes.byteLength) throw new ArchiveError(`member ${name} is truncated`);
  const raw = bytes.subarray(start, start + member.compressedSize);
  const counter = budget.member(member.rawName);
  let produced = 0;
  const count = (size: number) => {
    produced += size;
    if (produced > member.declaredSize) throw new ArchiveError(`member ${name} inflates past its declared size`);
    counter.add(size);
  };
  let data: Uint8Array;
  if (member.method === 0) {
    count(raw.byteLength);
    data = raw;
  } else if (member.method === 8) {
    const inflated = streamOf(raw).pipeThrough(new DecompressionStream("deflate-raw"));
    data = await readCounted(inflated, count).catch((error: unknown) => {
      throw error instanceof ArchiveError ? error : new ArchiveError(`member ${name} does not inflate`);
    });
  } else {
    throw new ArchiveError(`member ${name} uses compression method ${member.method}`);
  }
  if (data.byteLength !== member.declaredSize) throw new ArchiveError(`member ${name} is shorter than it declares`);
  if (crc32(data) !== member.crc) throw new ArchiveError(`member ${name} fails its CRC-32 check`);
  return data;
}

function findEndOfCentralDirectory(view: DataView): number {
  const lowest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === EOCD) return at;
  }
  throw new ArchiveError("zip has no end of central directory");
}

/** From the Unix file type when recorded; a name ending in a slash is a directory whatever it says. */
function kindOf(rawName: string, unixMode: number | null, dosDirectory: boolean): MemberKind {
  if (rawName.endsWith("/") || rawName.endsWith("\\")) return "directory";
  const type = (unixMode ?? 0) & 0o170000;
  if (type !== 0) {
    switch (type) {
      case 0o100000:
        return "file";
      case 0o040000:
        return "directory";
      case 0o120000:
        return "link";
      default:
        return "device";
    }
  }
  return dosDirectory ? "directory" : "file";
}

let crcTable: Uint32Array | undefined;

export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

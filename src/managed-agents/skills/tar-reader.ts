/**
 * Reads a ustar/pax/GNU tar archive (optionally gzip-compressed) held in memory, through
 * modern-tar's strict decoder (header checksums and the ustar magic are checked). Each entry's path
 * is checked as its header arrives, regular files are read under the extraction budget (the bytes
 * that actually come, not the header's size), and every other body is drained unread. gzip is
 * inflated as a stream counted against a bound derived from the limits, so a gzip bomb stops there.
 */
import { createTarDecoder, type TarHeader } from "modern-tar";
import {
  ArchiveError,
  type ArchiveLimits,
  type ExtractionBudget,
  type ListedMember,
  type MemberKind,
  memberComponents,
  readCounted,
  streamOf,
} from "./archive-members.ts";

/** Room for headers (pax records included) and padding on top of the extracted bytes. */
const OVERHEAD_PER_MEMBER = 4096;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** `ustar` at offset 257 of the first header (POSIX `ustar\0`, old GNU `ustar  `). */
export function isTar(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 512 && new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar";
}

export interface TarContents {
  members: ListedMember[];
  /** Bodies of the regular files, by their member. */
  bodies: Map<ListedMember, Uint8Array>;
}

export async function readTar(
  source: ReadableStream<Uint8Array>,
  limits: ArchiveLimits,
  budget: ExtractionBudget,
): Promise<TarContents> {
  const members: ListedMember[] = [];
  const bodies = new Map<ListedMember, Uint8Array>();
  const reader = source.pipeThrough(createTarDecoder({ strict: true })).getReader();
  try {
    for (;;) {
      const { done, value: entry } = await reader.read();
      if (done) break;
      const member: ListedMember = {
        rawName: entry.header.name,
        kind: kindOf(entry.header),
        mode: entry.header.mode ?? null,
      };
      if (members.length >= limits.maxMembers)
        throw new ArchiveError(`archive has more than ${limits.maxMembers} members`);
      memberComponents(member.rawName); // refuses the archive on the first bad path
      members.push(member);
      if (member.kind === "file") {
        const counter = budget.member(member.rawName);
        bodies.set(member, await readCounted(entry.body, (size) => counter.add(size)));
      } else {
        await entry.body.pipeTo(new WritableStream());
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(`tar archive is corrupt (${error instanceof Error ? error.message : String(error)})`);
  }
  return { members, bodies };
}

/** The tar stream inside a gzip file, cut off once it inflates past what the limits could need. */
export function gunzipBounded(bytes: Uint8Array<ArrayBuffer>, limits: ArchiveLimits): ReadableStream<Uint8Array> {
  const cap = limits.maxTotalBytes + limits.maxMembers * OVERHEAD_PER_MEMBER;
  let produced = 0;
  return streamOf(bytes)
    .pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          produced += chunk.byteLength;
          if (produced > cap) throw new ArchiveError(`gzip stream inflates past ${cap} bytes`);
          out.enqueue(chunk);
        },
      }),
    );
}

function kindOf(header: TarHeader): MemberKind {
  switch (header.type ?? "file") {
    case "file":
      return "file";
    case "directory":
      return "directory";
    case "symlink":
    case "link":
      return "link";
    default:
      return "device";
  }
}

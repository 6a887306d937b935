/**
 * What both archive readers (zip, tar) hand the extractor, and the rules every member passes before
 * a byte is written: member paths are checked as a whole first (one absolute or `..` member refuses
 * the archive), links and devices are dropped, one shared wrapper directory is stripped, and sizes
 * are counted as bytes actually come out, never taken from headers.
 */

export interface ArchiveLimits {
  /** The downloaded archive itself. */
  maxArchiveBytes: number;
  /** Everything extracted, counted while inflating. */
  maxTotalBytes: number;
  maxFileBytes: number;
  maxMembers: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 32 * 1024 * 1024,
  maxTotalBytes: 32 * 1024 * 1024,
  maxFileBytes: 16 * 1024 * 1024,
  maxMembers: 5000,
};

/** An archive refused as a whole; the message names the member, never any credential. */
export class ArchiveError extends Error {
  override readonly name = "ArchiveError";
}

export type MemberKind = "file" | "directory" | "link" | "device";

/** A member as listed (its header), before any content is read. */
export interface ListedMember {
  /** The name as stored in the archive. */
  rawName: string;
  kind: MemberKind;
  /** Unix permission bits when the archive records them, else null. */
  mode: number | null;
}

/** A regular file ready to write: path relative to the skill's directory. */
export interface ExtractedFile {
  path: string;
  bytes: Uint8Array;
  executable: boolean;
}

/**
 * The member's path as components, backslashes read as separators and `.`/empty parts dropped.
 * Throws for an absolute path (`/x`, `\x`, `C:…`), a `..` component, or a NUL.
 */
export function memberComponents(rawName: string): string[] {
  const name = rawName.replaceAll("\\", "/");
  if (name.includes("\0")) throw new ArchiveError(`member ${JSON.stringify(rawName)} has a NUL in its name`);
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) {
    throw new ArchiveError(`member ${JSON.stringify(rawName)} is an absolute path`);
  }
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new ArchiveError(`member ${JSON.stringify(rawName)} leaves the skill directory`);
  return parts;
}

/**
 * Checks every listed member before anything is read: the count, and each path. Answers the
 * relative paths of the regular files to extract (links and devices dropped, directories implied
 * by their files), with one wrapper directory stripped when every member sits under the same one.
 */
export function planExtraction(members: ListedMember[], limits: ArchiveLimits): Map<ListedMember, string> {
  if (members.length > limits.maxMembers) {
    throw new ArchiveError(`archive has more than ${limits.maxMembers} members`);
  }
  const paths = members.map((member) => ({ member, parts: memberComponents(member.rawName) }));
  const files = paths.filter(({ member, parts }) => member.kind === "file" && parts.length > 0);
  const wrapper = sharedWrapper(
    paths.filter(({ parts }) => parts.length > 0).map(({ parts }) => parts),
    files.map(({ parts }) => parts),
  );
  const plan = new Map<ListedMember, string>();
  const seen = new Set<string>();
  for (const { member, parts } of files) {
    const path = (wrapper ? parts.slice(1) : parts).join("/");
    if (seen.has(path)) throw new ArchiveError(`member ${JSON.stringify(member.rawName)} appears twice`);
    seen.add(path);
    plan.set(member, path);
  }
  for (const path of seen) {
    for (let cut = path.indexOf("/"); cut > 0; cut = path.indexOf("/", cut + 1)) {
      if (seen.has(path.slice(0, cut))) {
        throw new ArchiveError(`member ${JSON.stringify(path.slice(0, cut))} is both a file and a directory`);
      }
    }
  }
  return plan;
}

/** True when every member sits under the same first directory (and no file is that name itself). */
function sharedWrapper(all: string[][], files: string[][]): boolean {
  if (files.length === 0) return false;
  const first = all[0]?.[0];
  return all.every((parts) => parts[0] === first) && files.every((parts) => parts.length > 1);
}

/** Executable when any execute bit is set (the sandbox writes 0755, else 0644). */
export function isExecutable(mode: number | null): boolean {
  return mode !== null && (mode & 0o111) !== 0;
}

/** Counts bytes as they come out of an archive, across members and per member. */
export class ExtractionBudget {
  #total = 0;
  #members = 0;
  private readonly limits: ArchiveLimits;

  constructor(limits: ArchiveLimits) {
    this.limits = limits;
  }

  /** Per-member budget: call `add` for each chunk; it throws once a limit is passed. */
  member(rawName: string): { add(bytes: number): void } {
    if (++this.#members > this.limits.maxMembers) {
      throw new ArchiveError(`archive has more than ${this.limits.maxMembers} members`);
    }
    let size = 0;
    return {
      add: (bytes: number) => {
        size += bytes;
        this.#total += bytes;
        if (size > this.limits.maxFileBytes) {
          throw new ArchiveError(`member ${JSON.stringify(rawName)} inflates past ${this.limits.maxFileBytes} bytes`);
        }
        if (this.#total > this.limits.maxTotalBytes) {
          throw new ArchiveError(`archive inflates past ${this.limits.maxTotalBytes} bytes in total`);
        }
      },
    };
  }

  get totalBytes(): number {
    return this.#total;
  }
}

/** Reads a stream into one array, handing each chunk's size to `count` first (which may throw). */
export async function readCounted(
  stream: ReadableStream<Uint8Array>,
  count: (bytes: number) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      count(value.byteLength);
      chunks.push(value);
      size += value.byteLength;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The bytes as a one-chunk stream (no copy), to pipe through a decompressor or decoder. */
export function streamOf(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array<ArrayBuffer>> {
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

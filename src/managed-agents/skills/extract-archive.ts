/**
 * A skill archive in memory → the files to write, or an ArchiveError and nothing at all. The format
 * is told by its bytes (zip `PK\3\4`, gzip `\x1f\x8b` holding a tar, tar `ustar` at 257), not by
 * any content type. Everything is read and checked before the caller writes a byte, so a refused
 * archive leaves the sandbox as it was; peak memory is the archive plus what it extracts (both
 * bounded by the limits).
 */
import {
  ArchiveError,
  type ArchiveLimits,
  type ExtractedFile,
  ExtractionBudget,
  isExecutable,
  planExtraction,
  streamOf,
} from "./archive-members.ts";
import { gunzipBounded, isGzip, isTar, readTar } from "./tar-reader.ts";
import { isZip, listZip, readZipMember } from "./zip-reader.ts";

export async function extractArchive(bytes: Uint8Array<ArrayBuffer>, limits: ArchiveLimits): Promise<ExtractedFile[]> {
  if (isZip(bytes)) return extractZip(bytes, limits);
  if (isGzip(bytes)) return extractTar(gunzipBounded(bytes, limits), limits);
  if (isTar(bytes)) return extractTar(streamOf(bytes), limits);
  throw new ArchiveError("skill content is neither a zip nor a tar archive");
}

async function extractZip(bytes: Uint8Array<ArrayBuffer>, limits: ArchiveLimits): Promise<ExtractedFile[]> {
  const members = listZip(bytes);
  const plan = planExtraction(members, limits); // every path checked before any member is inflated
  const budget = new ExtractionBudget(limits);
  const files: ExtractedFile[] = [];
  for (const member of members) {
    const path = plan.get(member);
    if (path === undefined) continue;
    files.push({ path, bytes: await readZipMember(bytes, member, budget), executable: isExecutable(member.mode) });
  }
  return files;
}

async function extractTar(source: ReadableStream<Uint8Array>, limits: ArchiveLimits): Promise<ExtractedFile[]> {
  const { members, bodies } = await readTar(source, limits, new ExtractionBudget(limits));
  const plan = planExtraction(members, limits);
  const files: ExtractedFile[] = [];
  for (const [member, path] of plan) {
    const body = bodies.get(member);
    if (body) files.push({ path, bytes: body, executable: isExecutable(member.mode) });
  }
  return files;
}

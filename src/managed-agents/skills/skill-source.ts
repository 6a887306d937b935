/**
 * Where a session's skill comes from: `latest` resolved through the versions list (newest first),
 * the version's `name` read from the version itself, and the content downloaded with
 * `Accept: application/binary`, bounded while it is read (a `content-length` past the bound is
 * refused before reading). All calls carry the skills beta besides the managed-agents one.
 */

import { parseInput as parse } from "../../validation/parse-input.ts";
import { type ApiCredentials, callApi, callApiJson, type RetryPolicy, SKILLS_BETA } from "../api-client.ts";
import { type SkillVersion, SkillVersionListSchema, SkillVersionSchema } from "../protocol.ts";
import { ArchiveError, readCounted } from "./archive-members.ts";

export interface SkillCalls {
  credentials: ApiCredentials;
  signal?: AbortSignal;
  retry?: RetryPolicy;
}

const versionsPath = (skillId: string) => `/v1/skills/${encodeURIComponent(skillId)}/versions`;

/** The version to install: `latest` becomes the newest listed version; its `name` comes with it. */
export async function resolveSkillVersion(calls: SkillCalls, skillId: string, version: string): Promise<SkillVersion> {
  let concrete = version;
  if (version === "latest") {
    const list = parse(SkillVersionListSchema, await get(calls, versionsPath(skillId)), "skill versions");
    const newest = newestOf(list.data);
    if (!newest) throw new Error(`skill ${skillId} has no versions`);
    concrete = newest.version;
  }
  return parse(
    SkillVersionSchema,
    await get(calls, `${versionsPath(skillId)}/${encodeURIComponent(concrete)}`),
    "skill version",
  );
}

/** The version's archive bytes, at most `maxBytes`. */
export async function downloadSkillContent(
  calls: SkillCalls,
  skillId: string,
  version: string,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const response = await callApi(calls.credentials, {
    method: "GET",
    path: `${versionsPath(skillId)}/${encodeURIComponent(version)}/content`,
    betas: [SKILLS_BETA],
    accept: "application/binary",
    ...(calls.signal ? { signal: calls.signal } : {}),
    ...(calls.retry ? { retry: calls.retry } : {}),
  });
  const tooLarge = () => new ArchiveError(`skill content is larger than ${maxBytes} bytes`);
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (!response.body) return new Uint8Array();
  if (declared > maxBytes) {
    await response.body.cancel().catch(() => {});
    throw tooLarge();
  }
  let read = 0;
  return readCounted(response.body, (size) => {
    read += size;
    if (read > maxBytes) throw tooLarge();
  });
}

/** Newest first is the API's order; `created_at`, when every entry has one, settles it anyway. */
function newestOf(versions: SkillVersion[]): SkillVersion | undefined {
  if (!versions.every((v) => v.created_at !== undefined && Number.isFinite(Date.parse(v.created_at)))) {
    return versions[0];
  }
  return versions.reduce<SkillVersion | undefined>(
    (best, v) => (best === undefined || Date.parse(v.created_at ?? "") > Date.parse(best.created_at ?? "") ? v : best),
    undefined,
  );
}

function get(calls: SkillCalls, path: string): Promise<unknown> {
  return callApiJson(calls.credentials, {
    method: "GET",
    path,
    betas: [SKILLS_BETA],
    ...(calls.signal ? { signal: calls.signal } : {}),
    ...(calls.retry ? { retry: calls.retry } : {}),
  });
}

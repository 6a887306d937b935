/**
 * Installs a session's skills into its sandbox, one directory each under `/workspace/skills/`, named
 * by the basename of the version's `name`. Each skill is resolved, downloaded, extracted and checked
 * in memory before anything is written; a skill that fails any step is reported and logged (status,
 * API message, archive reason: never a credential) and the others go on: no failure here ends the
 * session. A directory left from an earlier work item of the same session is replaced whole.
 * `removeSkills` takes away exactly what the report says was installed (at the end of the work).
 */

import type { z } from "zod";
import { WORKDIR } from "../../sandbox/tools/context.ts";
import type { ApiCredentials, RetryPolicy } from "../api-client.ts";
import type { SessionSkillSchema } from "../protocol.ts";
import { joinPath, type ResourceLog, type SandboxFiles } from "../sandbox-files.ts";
import { ArchiveError, type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from "./archive-members.ts";
import { extractArchive } from "./extract-archive.ts";
import { downloadSkillContent, resolveSkillVersion } from "./skill-source.ts";

export const SKILLS_ROOT = `${WORKDIR}/skills`;

export type SessionSkill = z.infer<typeof SessionSkillSchema>;

export interface InstalledSkill {
  skillId: string;
  /** The concrete version (`latest` resolved). */
  version: string;
  name: string;
  path: string;
  files: number;
  bytes: number;
}

export interface FailedSkill {
  skillId: string;
  /** As the session asked for it (possibly `latest`). */
  version: string;
  error: string;
}

export interface SkillsReport {
  installed: InstalledSkill[];
  failed: FailedSkill[];
}

export interface InstallSkillsOptions {
  credentials: ApiCredentials;
  skills: readonly SessionSkill[];
  files: SandboxFiles;
  log: ResourceLog;
  limits?: ArchiveLimits;
  root?: string;
  signal?: AbortSignal;
  retry?: RetryPolicy;
}

export async function installSkills(options: InstallSkillsOptions): Promise<SkillsReport> {
  const report: SkillsReport = { installed: [], failed: [] };
  const limits = options.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const calls = {
    credentials: options.credentials,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  };
  for (const skill of options.skills) {
    try {
      const version = await resolveSkillVersion(calls, skill.skill_id, skill.version);
      const directory = skillDirectoryName(version.name);
      if (report.installed.some((installed) => installed.path.endsWith(`/${directory}`))) {
        throw new ArchiveError(`another skill of this session is already installed as ${directory}`);
      }
      const archive = await downloadSkillContent(calls, skill.skill_id, version.version, limits.maxArchiveBytes);
      const extracted = await extractArchive(archive, limits);
      const path = joinPath(options.root ?? SKILLS_ROOT, directory);
      await writeSkill(options.files, path, extracted);
      const bytes = extracted.reduce((sum, file) => sum + file.bytes.byteLength, 0);
      report.installed.push({
        skillId: skill.skill_id,
        version: version.version,
        name: version.name,
        path,
        files: extracted.length,
        bytes,
      });
      options.log(
        `skill ${skill.skill_id}@${version.version} installed at ${path} (${extracted.length} files, ${bytes} bytes)`,
      );
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const message = error instanceof Error ? error.message : String(error);
      report.failed.push({ skillId: skill.skill_id, version: skill.version, error: message });
      options.log(`skill ${skill.skill_id}@${skill.version} not installed: ${message}`);
    }
  }
  return report;
}

/** Removes every installed skill's directory; failures are logged, not thrown (the work is ending). */
export async function removeSkills(files: SandboxFiles, report: SkillsReport, log: ResourceLog): Promise<void> {
  for (const skill of report.installed) {
    try {
      await files.remove(skill.path, { recursive: true });
    } catch (error) {
      log(
        `skill ${skill.skillId} not removed from ${skill.path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/** The basename of a skill's name, refused when nothing usable is left (empty, `.`, `..`, control characters). */
export function skillDirectoryName(name: string): string {
  const base =
    name
      .replaceAll("\\", "/")
      .split("/")
      .filter((part) => part !== "")
      .at(-1) ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (base === "" || base === "." || base === ".." || /[\u0000-\u001f\u007f]/.test(base)) {
    throw new ArchiveError(`skill name ${JSON.stringify(name)} gives no usable directory name`);
  }
  return base;
}

/** Replaces the skill's directory; a write that fails part way removes what was written. */
async function writeSkill(
  files: SandboxFiles,
  path: string,
  extracted: { path: string; bytes: Uint8Array; executable: boolean }[],
): Promise<void> {
  await files.remove(path, { recursive: true });
  try {
    for (const file of extracted) {
      await files.put(joinPath(path, file.path), file.bytes, { executable: file.executable });
    }
  } catch (error) {
    await files.remove(path, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Where a memory store lives in the sandbox and how a memory's `path` maps to a file under it.
 *
 * Mount: the resource's `mount_path` when it is a clean absolute path, else
 * `/mnt/memory/<memory_store_id>` (also when it is the workdir or one of its ancestors). The protocol says `/mnt/memory/<name>`, but neither the session
 * resource nor any memory endpoint carries a store name (there is no store GET in the protocol), so
 * the store id stands for it: stable, unique per session and a valid file name.
 *
 * Memory paths are read relative to the mount (a leading `/` is dropped, `.` parts ignored); one
 * with a `..` part or a NUL never becomes a file (it could land outside the mount) and is skipped.
 */
import { WORKDIR } from "../../sandbox/tools/context.ts";
import { memberComponents } from "../skills/archive-members.ts";

export const MEMORY_MOUNT_ROOT = "/mnt/memory";

export function mountPathOf(resource: { memory_store_id: string; mount_path?: string | undefined }): string {
  const requested = resource.mount_path;
  if (requested?.startsWith("/")) {
    const parts = relativeParts(requested.slice(1));
    const mount = `/${parts?.join("/") ?? ""}`;
    // Never the workdir itself or above it: a sync would take the whole workspace for memories.
    if (parts && parts.length > 0 && mount !== WORKDIR && !WORKDIR.startsWith(`${mount}/`)) return mount;
  }
  return `${MEMORY_MOUNT_ROOT}/${resource.memory_store_id.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
}

/** The memory's file path relative to its mount, or null when it cannot be one safely. */
export function memoryKey(path: string): string | null {
  const parts = relativeParts(path.replace(/^\/+/, ""));
  return parts && parts.length > 0 ? parts.join("/") : null;
}

function relativeParts(path: string): string[] | null {
  try {
    // The same rules as archive members: no absolute path, no `..`, no NUL.
    return path.includes("\\") ? null : memberComponents(path);
  } catch {
    return null;
  }
}

/** Lowercase hex SHA-256 of the bytes (what `content_sha256` holds for the UTF-8 content). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `<key>.conflict-<n>` with the lowest n ≥ 1 that `taken` does not report. */
export function conflictKey(key: string, taken: (key: string) => boolean): string {
  for (let n = 1; ; n++) {
    const candidate = `${key}.conflict-${n}`;
    if (!taken(candidate)) return candidate;
  }
}

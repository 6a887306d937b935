/**
 * Node's filesystem errors name the real path (`ENOENT: no such file or directory, open
 * '/srv/tether/main/sb1/a.txt'`). The sandbox must see what the edge's filesystem would say, naming
 * its own path, so the tools' and the shell builtins' messages are the same on both sides.
 */
import { type FsErrorCode, fsError, isFsError } from "../../sandbox/fs/fs-errors.ts";

const SAME: ReadonlySet<string> = new Set<FsErrorCode>([
  "ENOENT",
  "EEXIST",
  "EISDIR",
  "ENOTDIR",
  "ENOTEMPTY",
  "EINVAL",
  "ELOOP",
  "EPERM",
  "ENOSPC",
  "EFBIG",
  "ENAMETOOLONG",
]);

/** Node's code → the edge's, for the few that differ in name only. */
const ALIASES: Readonly<Record<string, { code: FsErrorCode; description?: string }>> = {
  EACCES: { code: "EPERM", description: "permission denied" },
  EDQUOT: { code: "ENOSPC", description: "disk quota exceeded" },
};

export function fromNodeError(error: unknown, op: string, path: string): unknown {
  if (!(error instanceof Error)) return error;
  // Ours already (a refusal from the confinement check or a tool-level check): keep it.
  if (isFsError(error) && !("syscall" in error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return error;
  if (SAME.has(code)) return fsError(code as FsErrorCode, op, path);
  const alias = ALIASES[code];
  if (alias) return fsError(alias.code, op, path, alias.description);
  // Rare codes (EBUSY, EXDEV, EIO …): their name, without the real path.
  const described = new Error(`${code}: ${op} '${path}' failed`) as NodeJS.ErrnoException;
  described.code = code;
  return described;
}

/** True for a Node error that means the disk (or the user's quota on it) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

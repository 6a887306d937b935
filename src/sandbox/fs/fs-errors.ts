/**
 * Errno-style errors in the exact form just-bash's own filesystems throw (`ENOENT: no such file or
 * directory, open '/x'`): its commands recognise failures by these codes in the message and turn
 * them into the familiar `cat: x: No such file or directory` lines.
 */
export type FsErrorCode =
  | "ENOENT"
  | "EEXIST"
  | "EISDIR"
  | "ENOTDIR"
  | "ENOTEMPTY"
  | "EINVAL"
  | "ELOOP"
  | "EPERM"
  | "ENOSPC"
  | "EFBIG"
  | "ENAMETOOLONG";

const DESCRIPTIONS: Record<FsErrorCode, string> = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  EISDIR: "illegal operation on a directory",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EINVAL: "invalid argument",
  ELOOP: "too many levels of symbolic links",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EFBIG: "file too large",
  ENAMETOOLONG: "file name too long",
};

export interface FsError extends Error {
  code: FsErrorCode;
  path: string;
}

/**
 * These errors are ordinary control flow (the shell stats a handful of missing paths per command),
 * so they skip the stack trace, which costs more than the lookup that failed.
 */
export function fsError(code: FsErrorCode, op: string, path: string, description = DESCRIPTIONS[code]): FsError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let error: FsError;
  try {
    error = new Error(`${code}: ${description}, ${op} '${path}'`) as FsError;
  } finally {
    Error.stackTraceLimit = limit;
  }
  error.code = code;
  error.path = path;
  return error;
}

export function isFsError(error: unknown, code?: FsErrorCode): error is FsError {
  return error instanceof Error && "code" in error && (code === undefined || (error as FsError).code === code);
}

/**
 * What skills and memory need from a session's sandbox: whole-file put/get, a recursive listing and
 * removal. The session runner backs it with the Sandbox Durable Object's RPC (putFile, getFile,
 * deleteFile, listFiles); tests use an in-memory double. Paths are absolute inside the sandbox.
 *
 * `executable`: the runner's adapter (./sandbox-files-over-rpc.ts) writes it as mode 0755 (else
 * 0644) through the putFile RPC.
 */
export interface SandboxFileInfo {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface SandboxFiles {
  /** Writes the whole file (parents created); replaces what was there. */
  put(path: string, bytes: Uint8Array, options?: { executable?: boolean }): Promise<void>;
  /** The file's bytes, or null when there is no such file. */
  get(path: string): Promise<Uint8Array | null>;
  /** Regular files under root, recursively; [] when root is missing. */
  list(root: string): Promise<SandboxFileInfo[]>;
  /** Removes a file, or with `recursive` a directory and everything below; missing is not an error. */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
}

/** A line for the runner's log. Callers never put a credential in one. */
export type ResourceLog = (line: string) => void;

/** `a/b` under `root`, without doubled slashes. */
export function joinPath(root: string, relative: string): string {
  return `${root.replace(/\/+$/, "")}/${relative.replace(/^\/+/, "")}`;
}

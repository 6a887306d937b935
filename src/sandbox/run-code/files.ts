import { RpcTarget } from "cloudflare:workers";
import type { IFileSystem } from "just-bash";
import { resolvePath } from "../fs/paths.ts";
import { WORKDIR } from "../tools/context.ts";
import { readTextFile, writeTextFile } from "../tools/files.ts";

/**
 * What run_code needs from a sandbox's filesystem. The Sandbox Durable Object implements it over
 * its SQLite filesystem; tests use an in-memory map. Paths reaching an implementation are always
 * absolute and normalised (relative ones are resolved against the working directory first, `..`
 * stops at the sandbox's root); refusing symlink escapes is the implementation's job, as for every
 * other tool.
 */
export interface SandboxFiles {
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string): Promise<void>;
  /** Entry names in a directory. Optional: without it, `files.listFiles` fails with a clear error. */
  listFiles?(dir: string): Promise<string[]>;
}

/** SandboxFiles over the sandbox's filesystem, with the same rules as the read and write tools. */
export function sandboxFilesFromFs(fs: IFileSystem): SandboxFiles {
  return {
    readFile: (path) => readTextFile(fs, path),
    writeFile: (path, content) => writeTextFile(fs, path, content),
    listFiles: (dir) => fs.readdir(dir),
  };
}

/** A files call's outcome as data: errors cross RPC as replies, so they are not logged as uncaught. */
export type FilesReply<T> = { value: T } | { error: string };

/**
 * The files capability handed to the isolate as an argument of its RPC call (by reference: each
 * call from the isolate comes back here). An RpcTarget cannot go into the loaded worker's `env`
 * instead: workerd refuses with "DataCloneError: Remote RPC references can only be serialized for
 * RPC", because a loaded worker's env may outlive the request that created it. An argument lives
 * exactly as long as the run, which is also the lifetime we want for the capability.
 * Failures come back as `{ error }` (the isolate's runtime throws them there): a method that
 * throws would also be reported by workerd as an uncaught exception on this side.
 */
export class FilesTarget extends RpcTarget {
  readonly #files: SandboxFiles;

  constructor(files: SandboxFiles) {
    super();
    this.#files = files;
  }

  readFile(path: string): Promise<FilesReply<string>> {
    return reply(() => this.#files.readFile(resolvePath(WORKDIR, String(path))));
  }

  writeFile(path: string, content: string): Promise<FilesReply<null>> {
    return reply(async () => {
      await this.#files.writeFile(resolvePath(WORKDIR, String(path)), String(content));
      return null;
    });
  }

  listFiles(dir?: string): Promise<FilesReply<string[]>> {
    return reply(() => {
      if (!this.#files.listFiles) throw new Error("listFiles is not available in this sandbox");
      return this.#files.listFiles(resolvePath(WORKDIR, String(dir ?? WORKDIR)));
    });
  }
}

async function reply<T>(call: () => Promise<T>): Promise<FilesReply<T>> {
  try {
    return { value: await call() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * A test double of SandboxFiles: files in a Map, every write recorded in order, mtimes strictly
 * increasing (so a rewrite is always seen as a change). Tests use it where the session runner uses
 * the Sandbox Durable Object; `writeText`/`text` stand for the agent's own edits and reads.
 */
import type { SandboxFileInfo, SandboxFiles } from "../../src/managed-agents/sandbox-files.ts";

interface StoredFile {
  bytes: Uint8Array;
  executable: boolean;
  mtimeMs: number;
}

export class InMemorySandboxFilesDouble implements SandboxFiles {
  readonly files = new Map<string, StoredFile>();
  /** Every path `put` wrote, in order (duplicates included). */
  readonly writes: string[] = [];
  /** Runs before each `get` (a test changes the other side at that moment). */
  beforeGet: ((path: string) => void | Promise<void>) | undefined;
  /** When set, `get` never answers (a sandbox that hangs). */
  hangGets = false;
  #lastMtime = 0;

  async put(path: string, bytes: Uint8Array, options?: { executable?: boolean }): Promise<void> {
    this.writes.push(path);
    this.#store(path, bytes, options?.executable ?? false);
  }

  async get(path: string): Promise<Uint8Array | null> {
    await this.beforeGet?.(path);
    if (this.hangGets) await new Promise(() => {});
    const file = this.files.get(path);
    return file ? file.bytes.slice() : null;
  }

  async list(root: string): Promise<SandboxFileInfo[]> {
    const prefix = `${root.replace(/\/+$/, "")}/`;
    return [...this.files]
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, file]) => ({ path, size: file.bytes.byteLength, mtimeMs: file.mtimeMs }));
  }

  async remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    const prefix = `${path.replace(/\/+$/, "")}/`;
    const below = [...this.files.keys()].filter((p) => p.startsWith(prefix));
    if (below.length > 0 && !options?.recursive) throw new Error(`${path} is a directory`);
    for (const p of below) this.files.delete(p);
    this.files.delete(path);
  }

  /** The agent writes a file (not counted in `writes`). */
  writeText(path: string, text: string | Uint8Array): void {
    this.#store(path, typeof text === "string" ? new TextEncoder().encode(text) : text, false);
  }

  text(path: string): string | undefined {
    const file = this.files.get(path);
    return file ? new TextDecoder().decode(file.bytes) : undefined;
  }

  /** Paths under root, sorted. */
  paths(root = "/"): string[] {
    return [...this.files.keys()].filter((p) => p.startsWith(root)).sort();
  }

  #store(path: string, bytes: Uint8Array, executable: boolean): void {
    this.#lastMtime = Math.max(Date.now(), this.#lastMtime + 1);
    this.files.set(path, { bytes: bytes.slice(), executable, mtimeMs: this.#lastMtime });
  }
}

import { createTarPacker, type TarHeader } from "modern-tar";

/**
 * Streams a sandbox's tree as a tar archive (modern-tar writes the format). Entries are read one at
 * a time while the archive is consumed, so memory stays at one chunk however large the tree is.
 *
 * The tree is not locked while it streams (staging must not wait behind a slow download): a file
 * that grows, shrinks or goes away between listing and reading is exported at the size it was
 * listed with (cut, or padded with zero bytes), so the archive itself always stays well-formed.
 */
export interface TarTreeEntry {
  /** Absolute path inside the sandbox, e.g. `/workspace/a.txt`. */
  path: string;
  type: "file" | "directory" | "symlink";
  size: number;
  mtime: Date;
  mode: number;
  /** Symlink target. */
  target?: string;
}

export interface TarTree {
  /** Every entry below `/`, parents before children. */
  entries(): AsyncIterable<TarTreeEntry>;
  /** A file's bytes. */
  open(path: string): Promise<ReadableStream<Uint8Array>>;
}

export function exportTar(tree: TarTree): ReadableStream<Uint8Array> {
  const { readable, controller } = createTarPacker();
  void (async () => {
    try {
      for await (const entry of tree.entries()) {
        const header = headerFor(entry);
        if (!header) continue;
        const sink = controller.add(header);
        if (entry.type === "file" && entry.size > 0) {
          await exactly(await tree.open(entry.path), entry.size).pipeTo(sink);
        } else {
          await sink.close();
        }
      }
      controller.finalize();
    } catch (error) {
      controller.error(error);
    }
  })();
  return readable;
}

function headerFor(entry: TarTreeEntry): TarHeader | null {
  const name = entry.path.replace(/^\/+/, "");
  if (!name) return null; // the root itself
  const common = { mtime: entry.mtime, mode: entry.mode & 0o7777 };
  switch (entry.type) {
    case "directory":
      return { ...common, name: `${name}/`, type: "directory", size: 0 };
    case "symlink":
      return { ...common, name, type: "symlink", size: 0, linkname: entry.target ?? "" };
    case "file":
      return { ...common, name, type: "file", size: entry.size };
  }
}

/** Passes exactly `size` bytes: extra bytes are dropped, a short stream is padded with zeros. */
function exactly(source: ReadableStream<Uint8Array>, size: number): ReadableStream<Uint8Array> {
  let remaining = size;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        if (remaining <= 0) return;
        const part = chunk.byteLength > remaining ? chunk.subarray(0, remaining) : chunk;
        remaining -= part.byteLength;
        out.enqueue(part);
      },
      flush(out) {
        if (remaining > 0) out.enqueue(new Uint8Array(remaining));
        remaining = 0;
      },
    }),
  );
}

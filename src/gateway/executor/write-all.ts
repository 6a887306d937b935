import type { FileHandle } from "node:fs/promises";

/**
 * Writes every byte: one `write` may write fewer than asked (a disk filling up does exactly that
 * before it fails with ENOSPC), and Node's FileHandle.write reports it rather than retrying.
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Reading file bodies the sandbox streams back: whole (bounded by the caller's size check), or
 * only their last bytes (bash output, which may be many megabytes).
 */

export async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** The last `maxBytes` of a stream, and whether anything before them was dropped. */
export async function readTail(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; dropped: boolean }> {
  const chunks: Uint8Array[] = [];
  let held = 0;
  let dropped = false;
  const reader = body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    chunks.push(next.value);
    held += next.value.byteLength;
    while (held - (chunks[0]?.byteLength ?? 0) >= maxBytes) {
      held -= chunks.shift()?.byteLength ?? 0;
      dropped = true;
    }
  }
  const all = new Uint8Array(held);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (held <= maxBytes) return { bytes: all, dropped };
  return { bytes: all.subarray(held - maxBytes), dropped: true };
}

const decoder = new TextDecoder();

/** Bytes as text; a character cut at the start of a tail decodes to U+FFFD and is dropped. */
export function decodeTail(bytes: Uint8Array, cut: boolean): string {
  const text = decoder.decode(bytes);
  return cut ? text.replace(/^\uFFFD+/, "") : text;
}

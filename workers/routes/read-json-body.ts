import { TetherError } from "../../src/errors/tether-error.ts";

/**
 * Reads a JSON request body of at most `limit` bytes: 413 past the limit (declared or observed while
 * reading, so a lying Content-Length does not help), 400 when it is not JSON. An empty body is `{}`.
 */
export async function readJsonBody(request: Request, limit: number, what: string): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) throw tooLarge(what, limit);
  if (!request.body) return {};
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(what, limit);
    }
    chunks.push(value);
  }
  const text = new TextDecoder().decode(concat(chunks, size));
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new TetherError("bad_request", `${what} is not valid JSON`);
  }
}

function tooLarge(what: string, limit: number): TetherError {
  return new TetherError("payload_too_large", `${what} is larger than the limit of ${sizeText(limit)}`);
}

function sizeText(bytes: number): string {
  const MiB = 1024 * 1024;
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

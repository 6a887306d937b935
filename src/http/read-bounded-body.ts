/**
 * Reads a whole request body, bounded: past `limit` bytes, declared in Content-Length or observed
 * while reading (so a lying or missing Content-Length does not help), it stops reading and throws
 * 413 naming the limit. The edge buffers bodies it must inspect (JSON requests, MCP messages);
 * this is the one place that bounds them.
 */
import { TetherError } from "../errors/tether-error.ts";
import { concatBytes } from "./concat-bytes.ts";

/**
 * The body's bytes, or null when the request (or a fetched response) has none. `what` names the
 * body in the 413 message.
 */
export async function readBoundedBody(
  request: Pick<Request, "headers" | "body">,
  limit: number,
  what: string,
): Promise<Uint8Array | null> {
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw tooLarge(what, limit);
  if (!request.body) return null;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, limit);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/** A JSON body of at most `limit` bytes: 413 past it, 400 when it is not JSON; no or an empty body is `{}`. */
export async function readJsonBody(request: Request, limit: number, what: string): Promise<unknown> {
  const body = await readBoundedBody(request, limit, what);
  const text = body ? new TextDecoder().decode(body) : "";
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

/** 4194304 → "4 MiB", 65536 → "64 KiB", anything else in bytes. */
export function sizeText(bytes: number): string {
  const MiB = 1024 * 1024;
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

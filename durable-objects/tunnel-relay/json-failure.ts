/**
 * Finds the JSON-RPC failure in a relayed JSON response for the call's trace (a JSON-RPC error,
 * or a tool result flagged isError; see src/mcp/response-info.ts). Keeps a bounded copy of the
 * body as it streams by (SNIFF_LIMIT; a larger body records no error), and parses only a body
 * that can hold a failure at all: both kinds need a key ending in `rror"` ("error", "isError"),
 * so a plain result, the common case, costs one byte scan instead of a parse.
 */
import { concatBytes } from "../../src/http/concat-bytes.ts";
import { hasMediaType, JSON_CONTENT_TYPE } from "../../src/mcp/headers.ts";
import { describeJsonRpcFailure } from "../../src/mcp/response-info.ts";
import type { HeaderList } from "../../src/protocol/messages.ts";
import { headerValue } from "./forward-headers.ts";

/** How much of a JSON response is kept to find a JSON-RPC error for the trace. */
const SNIFF_LIMIT = 64 * 1024;
const MARKER = new TextEncoder().encode('rror"');

/** A JSON body the trace may read (not compressed). */
export function isPlainJson(headers: HeaderList): boolean {
  return (
    hasMediaType(headerValue(headers, "content-type"), JSON_CONTENT_TYPE) &&
    headerValue(headers, "content-encoding") === null
  );
}

/** The failure a whole JSON body describes, or null. */
export function jsonFailure(body: Uint8Array): string | null {
  if (body.byteLength === 0 || body.byteLength > SNIFF_LIMIT || !contains(body, MARKER)) return null;
  return describeJsonRpcFailure(body);
}

/** Collects a streamed JSON body (copies: the chunks themselves go on to the agent) up to SNIFF_LIMIT. */
export class JsonFailureSniffer {
  #chunks: Uint8Array[] | null = [];
  #bytes = 0;

  push(chunk: Uint8Array): void {
    if (!this.#chunks) return;
    if (this.#bytes + chunk.byteLength > SNIFF_LIMIT) {
      this.#chunks = null;
      return;
    }
    this.#chunks.push(chunk.slice());
    this.#bytes += chunk.byteLength;
  }

  failure(): string | null {
    return this.#chunks ? jsonFailure(concatBytes(this.#chunks)) : null;
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  const last = haystack.byteLength - needle.byteLength;
  for (let i = haystack.indexOf(first as number); i !== -1 && i <= last; i = haystack.indexOf(first as number, i + 1)) {
    let j = 1;
    while (j < needle.byteLength && haystack[i + j] === needle[j]) j++;
    if (j === needle.byteLength) return true;
  }
  return false;
}

import type { EventStreamOptions } from "./event-stream.ts";
import type { ToolCallEvent } from "./events.ts";
import { collectToolCallsJson, JSON_CONTENT_TYPE } from "./json.ts";
import { NDJSON_CONTENT_TYPE, toNdjsonStream } from "./ndjson.ts";
import { SSE_CONTENT_TYPE, toSseStream } from "./sse.ts";

export type ToolCallsFormat = "json" | "sse" | "ndjson";

const FORMATS: Record<string, ToolCallsFormat> = {
  [JSON_CONTENT_TYPE]: "json",
  [SSE_CONTENT_TYPE]: "sse",
  [NDJSON_CONTENT_TYPE]: "ndjson",
};

/**
 * The answer format an `Accept` header asks for: the supported type with the highest q (earliest on a
 * tie); JSON when the header is absent, a wildcard, or names none of them.
 */
export function negotiateToolCallsFormat(accept: string | null): ToolCallsFormat {
  let best: { format: ToolCallsFormat; q: number } | undefined;
  for (const part of (accept ?? "").split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const format = FORMATS[type];
    if (!format) continue;
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (q > 0 && (!best || q > best.q)) best = { format, q };
  }
  return best?.format ?? "json";
}

/** Builds the HTTP answer for a run's events in the given format (streams carry heartbeats). */
export async function toolCallsResponse(
  events: AsyncIterable<ToolCallEvent>,
  format: ToolCallsFormat,
  options?: EventStreamOptions,
): Promise<Response> {
  if (format === "json") return Response.json(await collectToolCallsJson(events));
  const body = format === "sse" ? toSseStream(events, options) : toNdjsonStream(events, options);
  const type = format === "sse" ? SSE_CONTENT_TYPE : NDJSON_CONTENT_TYPE;
  return new Response(body, {
    headers: { "content-type": `${type}; charset=utf-8`, "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}

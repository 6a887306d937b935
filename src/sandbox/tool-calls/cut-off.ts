/**
 * What the agent gets when the platform cuts a tool call off (the sandbox's Durable Object used up
 * its CPU limit, ran out of memory, or was reset): an `is_error` result for every block that did
 * not get one, in the format it asked for, never a 500.
 *
 * Why at the edge: the object that was running the call is gone, so it cannot answer; the Worker
 * that called it over RPC still can. The next call starts the object again from its storage
 * (files and the shell state of earlier calls are there; the cut call's own shell changes are not).
 *
 * JSON answers are built by the object only after the last block, so a cut surfaces as the RPC
 * call throwing. Streamed answers (SSE, NDJSON) are already flowing: the stream errors, and this
 * ends it with results for the blocks still open and a `done`.
 */

import type { ToolCallEvent, ToolCallStreamEvent } from "./events.ts";
import { encodeNdjsonEvent } from "./ndjson.ts";
import { type ToolCallsFormat, toolCallsResponse } from "./respond.ts";
import { encodeSseEvent } from "./sse.ts";
import type { ToolUseBlock } from "./tool-use-block.ts";

export const CUT_OFF_KIND = "interrupted";

/** The result text: what happened and what survives, so the agent can decide how to go on. */
export function cutOffText(cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return (
    `interrupted: the sandbox was stopped by the platform during this call (${reason}). ` +
    "It may have run in part (check what it writes); files and shell state from earlier calls are kept. " +
    "Split the work into smaller calls, or bound it with a smaller timeout_ms."
  );
}

function cutOffEvents(blocks: readonly ToolUseBlock[], done: ReadonlySet<string>, cause: unknown): ToolCallEvent[] {
  const text = cutOffText(cause);
  const events: ToolCallEvent[] = [];
  for (const block of blocks) {
    if (done.has(block.id)) continue;
    events.push({
      event: "result",
      tool_use_id: block.id,
      result: { type: "tool_result", tool_use_id: block.id, content: [{ type: "text", text }], is_error: true },
      meta: {
        tool_use_id: block.id,
        name: block.name,
        duration_ms: 0,
        truncated: false,
        bytes_out: new TextEncoder().encode(text).length,
        error_kind: CUT_OFF_KIND,
      },
    });
  }
  events.push({ event: "done" });
  return events;
}

/** The whole answer when the call failed before any of it reached the edge. */
export function cutOffResponse(
  blocks: readonly ToolUseBlock[],
  format: ToolCallsFormat,
  cause: unknown,
): Promise<Response> {
  return toolCallsResponse(
    (async function* () {
      yield* cutOffEvents(blocks, new Set(), cause);
    })(),
    format,
  );
}

/**
 * A streamed answer that, if its source errors, ends with results for the blocks that had none.
 * Events are complete lines in both framings (the data line of SSE, each NDJSON line).
 */
export function guardStream(response: Response, blocks: readonly ToolUseBlock[], format: ToolCallsFormat): Response {
  if (format === "json" || !response.body) return response;
  const encode: (event: ToolCallStreamEvent) => string = format === "sse" ? encodeSseEvent : encodeNdjsonEvent;
  const done = new Set<string>();
  let pending = "";
  let finished = false;
  const note = (line: string): void => {
    const json = line.startsWith("data: ") ? line.slice(6) : line;
    if (!json.startsWith("{")) return;
    try {
      const event = JSON.parse(json) as { event?: unknown; tool_use_id?: unknown };
      if (event.event === "result" && typeof event.tool_use_id === "string") done.add(event.tool_use_id);
      if (event.event === "done") finished = true;
    } catch {
      // not an event line
    }
  };
  return endedOnError(
    response,
    (text) => {
      pending += text;
      const cut = pending.lastIndexOf("\n") + 1;
      for (const line of pending.slice(0, cut).split("\n")) note(line);
      pending = pending.slice(cut);
    },
    (error) => {
      if (finished) return "";
      // A partial line from before the cut would corrupt the framing: end it first.
      const tail = pending === "" ? "" : format === "sse" ? "\n\n" : "\n";
      return tail + cutOffEvents(blocks, done, error).map(encode).join("");
    },
  );
}

/**
 * Passes a streamed body through unchanged, showing each chunk's text to `onText`; if the source
 * errors, the stream ends cleanly with the text `ending` gives for that error.
 */
function endedOnError(
  response: Response,
  onText: (text: string) => void,
  ending: (error: unknown) => string,
): Response {
  if (!response.body) return response;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          controller.close();
          return;
        }
        onText(decoder.decode(next.value, { stream: true }));
        controller.enqueue(next.value);
      } catch (error) {
        const tail = ending(error);
        if (tail !== "") controller.enqueue(encoder.encode(tail));
        controller.close();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, response);
}

/** The id of a JSON-RPC `tools/call` request body, or undefined for any other message. */
export async function toolsCallId(request: { json(): Promise<unknown> }): Promise<string | number | undefined> {
  try {
    const call = (await request.json()) as { id?: unknown; method?: unknown };
    if (call.method !== "tools/call") return undefined;
    return typeof call.id === "string" || typeof call.id === "number" ? call.id : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON-RPC answer to a cut-off `tools/call`: the result of a failed tool, as MCP clients expect. */
function mcpCutOffMessage(id: string | number, cause: unknown): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    result: { content: [{ type: "text", text: cutOffText(cause) }], isError: true },
  });
}

/**
 * The MCP face's answer when a `tools/call` is cut off before its response started: the JSON-RPC
 * result of a failed tool (`isError`), as the tool-calls endpoint answers, so the agent sees a tool
 * error and not a transport failure.
 */
export function mcpCutOffResponse(id: string | number, cause: unknown): Response {
  return new Response(mcpCutOffMessage(id, cause), { headers: { "content-type": "application/json" } });
}

/**
 * An MCP answer streamed as SSE that, if its source errors before the call's response went out,
 * ends with that response (the failed tool's result) instead of a broken stream.
 */
export function guardMcpStream(response: Response, id: string | number): Response {
  if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) return response;
  const answered = new RegExp(`"id":${JSON.stringify(id).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[,}]`);
  let seen = "";
  let done = false;
  return endedOnError(
    response,
    (text) => {
      // Only whether the response passed is needed: keep a short tail for a match across chunks.
      const joined = seen + text;
      if (answered.test(joined)) done = true;
      seen = joined.slice(-4096);
    },
    (error) => (done ? "" : `\n\nevent: message\ndata: ${mcpCutOffMessage(id, error)}\n\n`),
  );
}

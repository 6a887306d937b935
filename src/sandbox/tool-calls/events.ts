import { z } from "zod";
import { ToolResultBlockSchema } from "./tool-use-block.ts";

/** What Tether knows about a call beyond the result block: for traces and orchestrators, not for Claude. */
export const ToolCallMetaSchema = z.object({
  tool_use_id: z.string(),
  name: z.string(),
  /** bash: the shell's exit status; run_code: 0, or 1 when the code threw. */
  exit_code: z.int().optional(),
  duration_ms: z.number(),
  /** True when output was cut at a cap (the text carries a marker). */
  truncated: z.boolean(),
  /** UTF-8 size of the result text. */
  bytes_out: z.int(),
  /** Why the result is an error: invalid_input, unknown_tool, timeout, limit, or a Tether error code. */
  error_kind: z.string().optional(),
});
export type ToolCallMeta = z.infer<typeof ToolCallMetaSchema>;

export const ToolCallEventSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("started"), tool_use_id: z.string(), name: z.string() }),
  z.object({
    event: z.literal("output"),
    tool_use_id: z.string(),
    stream: z.enum(["stdout", "stderr"]),
    text: z.string(),
  }),
  z.object({
    event: z.literal("result"),
    tool_use_id: z.string(),
    result: ToolResultBlockSchema,
    meta: ToolCallMetaSchema,
  }),
  z.object({ event: z.literal("done") }),
]);
export type ToolCallEvent = z.infer<typeof ToolCallEventSchema>;
export type ToolResultEvent = Extract<ToolCallEvent, { event: "result" }>;

/** A result's text blocks as one string. */
export function resultText(event: ToolResultEvent): string {
  return event.result.content.map((c) => c.text).join("");
}

/** Streams (SSE, NDJSON) also carry keep-alives, so idle connections are not cut during long calls. */
export const HeartbeatEventSchema = z.object({ event: z.literal("heartbeat") });
export const ToolCallStreamEventSchema = z.union([ToolCallEventSchema, HeartbeatEventSchema]);
export type ToolCallStreamEvent = z.infer<typeof ToolCallStreamEventSchema>;

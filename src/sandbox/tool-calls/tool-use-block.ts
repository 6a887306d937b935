import { z } from "zod";

/** A `tool_use` block as Claude emits it in an assistant message; orchestrators forward it unchanged. */
export const ToolUseBlockSchema = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1, "must not be empty"),
  name: z.string().min(1, "must not be empty"),
  input: z.record(z.string(), z.unknown()),
});
export type ToolUseBlock = z.infer<typeof ToolUseBlockSchema>;

export const TextBlockSchema = z.object({ type: z.literal("text"), text: z.string() });
export type TextBlock = z.infer<typeof TextBlockSchema>;

/**
 * The `tool_result` block Tether answers with: exactly what goes back to Claude in the next user
 * message. The text is never empty (the Messages API rejects empty text blocks).
 */
export const ToolResultBlockSchema = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.array(TextBlockSchema),
  is_error: z.boolean(),
});
export type ToolResultBlock = z.infer<typeof ToolResultBlockSchema>;

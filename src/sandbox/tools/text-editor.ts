import { z } from "zod";
import { FilePathSchema } from "./files.ts";
import { ViewRangeSchema } from "./line-view.ts";
import { createFile, insertLines, replaceUnique, viewPath } from "./text-editor-commands.ts";
import { defineTool } from "./tool.ts";

/**
 * Claude's client text-editor tool (`str_replace_based_edit_tool`). The flat object is what the tool
 * advertises (MCP needs an object schema); the union behind it checks each command's own fields, so a
 * missing one is reported by name.
 */
const TextEditorFlatSchema = z.object({
  command: z.enum(["view", "create", "str_replace", "insert"]),
  path: FilePathSchema,
  view_range: ViewRangeSchema.optional().describe("view: [start_line, end_line], 1-based; -1 = end of file"),
  max_characters: z.int().positive().optional().describe("view: cap on the characters shown"),
  file_text: z.string().optional().describe("create: content of the new file"),
  old_str: z.string().optional().describe("str_replace: exact text to replace; must occur exactly once"),
  new_str: z.string().optional().describe("str_replace: replacement text (default empty)"),
  insert_line: z.int().optional().describe("insert: line after which to insert; 0 = top of file"),
  insert_text: z.string().optional().describe("insert: text to insert"),
});

const TextEditorCommandSchema = z.discriminatedUnion("command", [
  z.object({
    command: z.literal("view"),
    path: z.string(),
    view_range: ViewRangeSchema.optional(),
    max_characters: z.int().positive().optional(),
  }),
  z.object({ command: z.literal("create"), path: z.string(), file_text: z.string() }),
  z.object({
    command: z.literal("str_replace"),
    path: z.string(),
    old_str: z.string().min(1, "must not be empty"),
    new_str: z.string().default(""),
  }),
  z.object({ command: z.literal("insert"), path: z.string(), insert_line: z.int(), insert_text: z.string() }),
]);

export const TextEditorInputSchema = TextEditorFlatSchema.transform((input) =>
  // Older versions of the tool (text_editor_20250124) sent insert's text as `new_str`.
  input.command === "insert" && input.insert_text === undefined ? { ...input, insert_text: input.new_str } : input,
).pipe(TextEditorCommandSchema);
export type TextEditorInput = z.output<typeof TextEditorInputSchema>;

export const textEditorTool = defineTool({
  name: "str_replace_based_edit_tool",
  description:
    "View, create and edit text files. view shows a file with line numbers (or a directory two levels " +
    "deep); create writes a new file; str_replace replaces one unique occurrence of old_str; insert adds " +
    "text after line insert_line (0 = top).",
  inputSchema: TextEditorInputSchema,
  async run(input, ctx) {
    switch (input.command) {
      case "view":
        return viewPath(ctx.fs, input.path, input.view_range, input.max_characters);
      case "create":
        return createFile(ctx.fs, input.path, input.file_text);
      case "str_replace":
        return replaceUnique(ctx.fs, input.path, input.old_str, input.new_str);
      case "insert":
        return insertLines(ctx.fs, input.path, input.insert_line, input.insert_text);
    }
  },
});

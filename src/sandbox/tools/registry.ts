import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { bashTool } from "./bash.ts";
import type { OutputListener, ToolContext } from "./context.ts";
import { editTool } from "./edit.ts";
import { globTool } from "./glob.ts";
import { grepTool } from "./grep.ts";
import { readTool } from "./read.ts";
import { runCodeTool } from "./run-code.ts";
import { textEditorTool } from "./text-editor.ts";
import { failure, type Tool, type ToolOutcome } from "./tool.ts";
import { writeTool } from "./write.ts";

/**
 * Every tool a sandbox offers, by the name Claude calls it: the Managed Agents toolset
 * (agent_toolset_20260401), the client text-editor tool, and run_code.
 */
export const TOOLS: readonly Tool[] = [
  bashTool,
  readTool,
  writeTool,
  editTool,
  globTool,
  grepTool,
  textEditorTool,
  runCodeTool,
];

export const TOOL_NAMES: readonly string[] = TOOLS.map((tool) => tool.name);

const byName = new Map(TOOLS.map((tool) => [tool.name, tool]));

export function findTool(name: string): Tool | undefined {
  return byName.get(name);
}

/**
 * Runs one tool call by name. Never throws: an unknown name, invalid input or a failing tool all come
 * back as an `is_error` outcome whose text says what went wrong.
 */
export function callTool(
  name: string,
  input: unknown,
  ctx: ToolContext,
  onOutput?: OutputListener,
): Promise<ToolOutcome> {
  const tool = byName.get(name);
  if (!tool) {
    return Promise.resolve(failure("unknown_tool", `unknown tool "${name}"; known tools: ${TOOL_NAMES.join(", ")}`));
  }
  return tool.call(input, ctx, onOutput);
}

let mcpList: McpTool[] | undefined;

/** The tools as an MCP `tools/list` answers them: input schemas as JSON Schema, derived from the zod ones. */
export function mcpTools(): McpTool[] {
  if (!mcpList) mcpList = TOOLS.map(toMcpTool);
  return mcpList;
}

function toMcpTool(tool: Tool): McpTool {
  // `io: "input"` describes what a caller sends (defaults optional), not what the tool receives.
  const { $schema: _dialect, ...schema }: Record<string, unknown> = z.toJSONSchema(tool.inputSchema, { io: "input" });
  return { name: tool.name, description: tool.description, inputSchema: { ...schema, type: "object" } };
}

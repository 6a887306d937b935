import { describe, expect, it } from "vitest";
import { callTool, findTool, mcpTools, TOOL_NAMES } from "../../src/sandbox/tools/registry.ts";
import { testToolContext } from "../helpers/tool-context.ts";

describe("tool registry", () => {
  it("offers Claude's tool names", () => {
    expect(TOOL_NAMES).toEqual([
      "bash",
      "read",
      "write",
      "edit",
      "glob",
      "grep",
      "str_replace_based_edit_tool",
      "run_code",
    ]);
    expect(findTool("read")?.name).toBe("read");
    expect(findTool("Read")).toBeUndefined();
  });

  it("answers an unknown tool with the list of known ones", async () => {
    expect(await callTool("computer", { action: "screenshot" }, testToolContext())).toEqual({
      text: 'unknown tool "computer"; known tools: bash, read, write, edit, glob, grep, str_replace_based_edit_tool, run_code',
      isError: true,
      errorKind: "unknown_tool",
    });
  });

  it("lists the tools for MCP with object JSON Schemas derived from the zod schemas", () => {
    const tools = mcpTools();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.description?.length).toBeGreaterThan(20);
      expect(tool.inputSchema).not.toHaveProperty("$schema");
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.inputSchema]));
    expect(byName.read?.required).toEqual(["file_path"]);
    expect(Object.keys(byName.read?.properties ?? {})).toEqual(["file_path", "view_range"]);
    expect(byName.edit?.required).toEqual(["file_path", "old_string", "new_string"]);
    expect(byName.bash?.required).toBeUndefined();
    expect(Object.keys(byName.bash?.properties ?? {})).toEqual(["command", "restart", "timeout_ms"]);
    expect(byName.run_code?.required).toEqual(["code"]);
    const editor = byName.str_replace_based_edit_tool;
    expect(editor?.required).toEqual(["command", "path"]);
    expect(editor?.properties?.command).toMatchObject({ enum: ["view", "create", "str_replace", "insert"] });
    expect(JSON.parse(JSON.stringify(tools))).toEqual(tools);
  });
});

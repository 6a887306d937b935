import { TetherError } from "../../errors/tether-error.ts";
import { parseInput } from "../../validation/parse-input.ts";
import { type ToolUseBlock, ToolUseBlockSchema } from "./tool-use-block.ts";

/**
 * Largest `POST /v1/sandboxes/:id/tool-calls` body accepted (1 MiB); larger bodies get 413. Tool inputs
 * are commands and file contents: bigger files go through the streamed files API instead. The HTTP
 * layer enforces it while reading (src/http/read-bounded-body.ts), then calls parseToolCallBody.
 */
export const TOOL_CALL_BODY_LIMIT = 1024 * 1024;

const SHAPE = 'a tool_use block ({"type": "tool_use", "id", "name", "input"}) or a non-empty array of them';

/**
 * Validates a parsed request body: one tool_use block or an array of them, with distinct ids (each
 * result must answer exactly one block). Anything else is a TetherError("bad_request") saying what.
 */
export function parseToolCallBody(body: unknown): ToolUseBlock[] {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new TetherError("bad_request", `empty array: the body must be ${SHAPE}`);
    const blocks = body.map((item, index) => parseBlock(item, `[${index}]`));
    const seen = new Set<string>();
    blocks.forEach((block, index) => {
      if (seen.has(block.id)) {
        throw new TetherError(
          "bad_request",
          `duplicate tool_use id "${block.id}" at [${index}]: each block needs its own id`,
        );
      }
      seen.add(block.id);
    });
    return blocks;
  }
  if (typeof body === "object" && body !== null) return [parseBlock(body, "")];
  throw new TetherError("bad_request", `the body must be ${SHAPE}`);
}

function parseBlock(value: unknown, where: string): ToolUseBlock {
  const what = `tool_use block${where ? ` at ${where}` : ""}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TetherError("bad_request", `invalid ${what}: expected an object`);
  }
  return parseInput(ToolUseBlockSchema, value, what);
}

import type { OutputListener, OutputStream, ToolContext } from "../tools/context.ts";
import { callTool } from "../tools/registry.ts";
import { failure, type ToolOutcome } from "../tools/tool.ts";
import { byteLength } from "../tools/truncate.ts";
import type { ToolCallEvent } from "./events.ts";
import type { ToolUseBlock } from "./tool-use-block.ts";

export interface RunToolCallsOptions {
  /**
   * Once aborted, blocks not yet started are skipped (the caller went away). The running one gets
   * the signal too: a tool that can stop (one on a gateway's executor) stops, the others finish.
   */
  signal?: AbortSignal;
}

/**
 * Runs one tool call wherever the sandbox lives and never throws (failures are `is_error`
 * outcomes): at the edge `callTool` over the runtime's ToolContext, on a gateway's executor a
 * request to it (durable-objects/sandbox/executor-backend.ts).
 */
export type RunTool = (
  name: string,
  input: unknown,
  onOutput: OutputListener,
  signal?: AbortSignal,
) => Promise<ToolOutcome>;

/** The edge's RunTool: the tools of src/sandbox/tools over a ToolContext. */
export function edgeRunTool(ctx: ToolContext): RunTool {
  return (name, input, onOutput) => callTool(name, input, ctx, onOutput);
}

/**
 * Runs tool_use blocks one after another, in order, yielding `started`, `output` (as the tool
 * produces it), `result` for each, then `done`. A block that fails (unknown tool, invalid input, a
 * refused operation) gets an `is_error` result and the next block still runs. Never throws.
 * Serialising calls across callers is the sandbox's job; this runs one request's blocks.
 */
export async function* runToolCalls(
  blocks: readonly ToolUseBlock[],
  tools: ToolContext | RunTool,
  options: RunToolCallsOptions = {},
): AsyncGenerator<ToolCallEvent> {
  const runTool = typeof tools === "function" ? tools : edgeRunTool(tools);
  for (const block of blocks) {
    if (options.signal?.aborted) return;
    yield* runOne(block, runTool, options.signal);
  }
  yield { event: "done" };
}

async function* runOne(block: ToolUseBlock, runTool: RunTool, signal?: AbortSignal): AsyncGenerator<ToolCallEvent> {
  yield { event: "started", tool_use_id: block.id, name: block.name };
  const started = performance.now();
  // Output arrives through a callback while the tool runs; it is queued here and yielded in order.
  const queued: ToolCallEvent[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  let outcome: ToolOutcome | undefined;
  const onOutput = (stream: OutputStream, text: string) => {
    if (outcome || text === "") return;
    queued.push({ event: "output", tool_use_id: block.id, stream, text });
    notify();
  };
  void runTool(block.name, block.input, onOutput, signal)
    // RunTool turns failures into outcomes; this only guards against a broken promise contract.
    .catch((error: unknown) => failure("internal", `${block.name} failed: ${String(error)}`))
    .then((done) => {
      outcome = done;
      notify();
    });
  for (;;) {
    const next = queued.shift();
    if (next) {
      yield next;
      continue;
    }
    if (outcome) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  yield resultEvent(block, outcome, performance.now() - started);
}

function resultEvent(block: ToolUseBlock, outcome: ToolOutcome, durationMs: number): ToolCallEvent {
  // The Messages API rejects empty text blocks.
  const text = outcome.text === "" ? "(no output)" : outcome.text;
  return {
    event: "result",
    tool_use_id: block.id,
    result: {
      type: "tool_result",
      tool_use_id: block.id,
      content: [{ type: "text", text }],
      is_error: outcome.isError === true,
    },
    meta: {
      tool_use_id: block.id,
      name: block.name,
      ...(outcome.exitCode !== undefined ? { exit_code: outcome.exitCode } : {}),
      duration_ms: Math.round(durationMs * 100) / 100,
      truncated: outcome.truncated === true,
      bytes_out: byteLength(text),
      ...(outcome.errorKind ? { error_kind: outcome.errorKind } : {}),
    },
  };
}

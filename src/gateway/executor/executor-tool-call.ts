/**
 * One tool call on an executor's sandbox (`POST /sandboxes/ID/tools/TOOL`): the edge's own tools
 * (src/sandbox/tools, through callTool) over the sandbox's real workspace and persistent shell,
 * answered as NDJSON: `output` lines as the tool produces them, then one `outcome` line.
 *
 * The call stops when the request is aborted (the edge reset the stream), when the answer's body
 * is cancelled, or when the sandbox is deleted: the abort reaches the shell through the bash run's
 * `signal`.
 */
import type { ExecutorToolLine, ToolCallRequest } from "../../protocol/executor-api.ts";
import type { BashRunner, ToolContext } from "../../sandbox/tools/context.ts";
import { callTool } from "../../sandbox/tools/registry.ts";
import type { ToolOutcome } from "../../sandbox/tools/tool.ts";
import type { ExecutorSandbox } from "./executor.ts";

/** Said first in the outcome of the first call after the workspace vanished from under the executor. */
export const WORKSPACE_RECREATED_NOTICE =
  "note: this sandbox's workspace had been removed on the executor's machine (not through Tether); " +
  "it was recreated empty and the shell was restarted.\n";

const NDJSON_HEADERS = { "content-type": "application/x-ndjson", "cache-control": "no-store" };

export interface ToolCall {
  sandbox: ExecutorSandbox;
  tool: string;
  request: ToolCallRequest;
  signal: AbortSignal;
}

export async function toolCallResponse(call: ToolCall): Promise<Response> {
  const { sandbox, tool, request } = call;
  // bash opens the shell now, so a refusal (too many live shells) is the answer's status, not a line.
  if (tool === "bash") await sandbox.shell(request.env);
  const recreated = sandbox.takeRecreated();
  const stop = new AbortController();
  const abort = AbortSignal.any([call.signal, sandbox.ended, stop.signal]);
  const encoder = new TextEncoder();
  let open = true;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const send = (line: ExecutorToolLine) => {
    if (open) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
      stop.abort(new Error("the tool call's answer was cancelled"));
    },
  });
  const ctx: ToolContext = {
    fs: sandbox.fs,
    bash: abortableShell(sandbox, request.env, abort),
    runCode: sandbox.runCode,
  };
  void callTool(tool, request.input, ctx, (stream, text) => send({ type: "output", stream, text }))
    .then((outcome) => {
      send({ type: "outcome", outcome: wireOutcome(recreated ? noticed(outcome) : outcome) });
      if (open) controller.close();
      open = false;
    })
    .catch((error: unknown) => {
      // callTool never throws; should it, the answer still ends (as an error) rather than hanging.
      if (open) controller.error(error);
      open = false;
    });
  return new Response(body, { headers: NDJSON_HEADERS });
}

/** The sandbox's shell, opened on first use, with every run stopped by `abort` too. */
function abortableShell(sandbox: ExecutorSandbox, env: Record<string, string>, abort: AbortSignal): BashRunner {
  return {
    async run(input, onOutput) {
      const shell = await sandbox.shell(env);
      const signal = input.signal ? AbortSignal.any([input.signal, abort]) : abort;
      return shell.run({ ...input, signal }, onOutput);
    },
  };
}

function noticed(outcome: ToolOutcome): ToolOutcome {
  return { ...outcome, text: `${WORKSPACE_RECREATED_NOTICE}${outcome.text}` };
}

/** Only the wire's fields (a tool may carry more in memory). */
function wireOutcome(outcome: ToolOutcome): Extract<ExecutorToolLine, { type: "outcome" }>["outcome"] {
  const { text, isError, errorKind, exitCode, truncated } = outcome;
  return { text, isError, errorKind, exitCode, truncated };
}

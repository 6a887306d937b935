import { InMemoryFs } from "just-bash";
import type {
  BashRunInput,
  BashRunner,
  BashRunResult,
  OutputListener,
  OutputStream,
  RunCode,
  RunCodeInput,
  RunCodeResult,
  ToolContext,
} from "../../src/sandbox/tools/context.ts";

/** A scripted shell: answers each call with `respond`, streaming `chunks` first; records every call. */
export class FakeBash implements BashRunner {
  readonly calls: BashRunInput[] = [];
  respond: (input: BashRunInput) => Promise<BashRunResult> | BashRunResult = (input) => ({
    stdout: `ran: ${input.command}\n`,
    stderr: "",
    exitCode: 0,
    truncated: false,
  });
  chunks: { stream: OutputStream; text: string }[] = [];

  async run(input: BashRunInput, onOutput?: OutputListener): Promise<BashRunResult> {
    this.calls.push(input);
    for (const chunk of this.chunks) onOutput?.(chunk.stream, chunk.text);
    return this.respond(input);
  }
}

export interface TestToolContext extends ToolContext {
  fs: InMemoryFs;
  bash: FakeBash;
  runCodeCalls: RunCodeInput[];
}

/**
 * InMemoryFs with /workspace, a FakeBash, and a run_code stand-in answering with `runCodeResult`
 * (fields not given: no output, no error, no refused requests).
 */
export function testToolContext(
  files: Record<string, string> = {},
  runCodeResult: Partial<RunCodeResult> = {},
): TestToolContext {
  const fs = new InMemoryFs(files);
  fs.mkdirSync("/workspace", { recursive: true });
  const runCodeCalls: RunCodeInput[] = [];
  const runCode: RunCode = async (input) => {
    runCodeCalls.push(input);
    return { stdout: "", stderr: "", timedOut: false, networkRefused: [], durationMs: 1, ...runCodeResult };
  };
  return { fs, bash: new FakeBash(), runCode, runCodeCalls };
}

/**
 * Tells apart the two ways just-bash stops a command before it ends on its own: the timeout (our
 * AbortSignal or its wall-clock deadline, whichever notices first: exit 124, "execution aborted" /
 * "exceeded (its) execution deadline", or simply the time being up) and an execution limit (exit
 * 126 and a message naming the limit). Only consulted when the command did not reach its
 * epilogue, so a user's own `exit 124` or `timeout 1 …` is not taken for either.
 */
export interface RunFailure {
  kind: "timeout" | "limit";
  message: string;
}

const TIMEOUT_MESSAGE = /execution aborted|exceeded (its )?execution deadline/;
const LIMIT_MESSAGE = /limit|too many|maximum|exceeded/i;

export function classifyFailure(
  result: { stderr: string; exitCode: number },
  time: { aborted: boolean; elapsedMs: number; timeoutMs: number },
): RunFailure | undefined {
  const { timeoutMs } = time;
  const lastLine = result.stderr.trimEnd().split("\n").at(-1) ?? "";
  const deadline = result.exitCode === 124 && (TIMEOUT_MESSAGE.test(lastLine) || time.elapsedMs >= timeoutMs);
  if (time.aborted || deadline) {
    return { kind: "timeout", message: `timeout: the command was stopped after ${formatDuration(timeoutMs)}` };
  }
  if (result.exitCode === 126 && LIMIT_MESSAGE.test(lastLine)) {
    return {
      kind: "limit",
      message: `limit: the command was stopped by an execution limit (${lastLine.replace(/^bash: /, "")})`,
    };
  }
  return undefined;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

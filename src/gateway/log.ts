/**
 * The gateway's log: one line per event on stderr, `<time> <event> key=value ...`, so operators
 * can grep it and tests can collect events. Values with spaces or quotes are JSON-quoted.
 */
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;
export type Logger = (event: string, fields?: LogFields) => void;

export function formatLogLine(event: string, fields: LogFields = {}, now = new Date()): string {
  let line = `${now.toISOString()} ${event}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    line += ` ${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
  }
  return line;
}

export const stderrLogger: Logger = (event, fields) => {
  process.stderr.write(`${formatLogLine(event, fields)}\n`);
};

/** A one-line description of anything thrown, including a Node system error's code. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error && cause.message && cause.message !== error.message) {
    return `${error.message}: ${describeError(cause)}`;
  }
  return error.message;
}

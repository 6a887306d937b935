import { capOutput } from "./truncate.ts";

/**
 * The text of a command's result: stdout then stderr (each chunk on its own line boundary), capped at
 * `maxBytes` with a marker, then `trailer` (exit status or why it stopped) which is never cut off.
 * Empty output reads "(no output)": the Messages API rejects empty text blocks.
 */
export function commandText(
  stdout: string,
  stderr: string,
  trailer: string | undefined,
  maxBytes: number,
): { text: string; truncated: boolean } {
  const capped = capOutput(joinLines(stdout, stderr), maxBytes);
  const text = trailer ? joinLines(capped.text, trailer) : capped.text;
  return { text: text === "" ? "(no output)" : text, truncated: capped.truncated };
}

function joinLines(first: string, second: string): string {
  if (first === "") return second;
  if (second === "") return first;
  return first.endsWith("\n") ? first + second : `${first}\n${second}`;
}

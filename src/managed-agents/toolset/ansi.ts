/** ANSI escape sequences (colours, cursor moves) as the reference runner strips them from bash output. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what is matched.
export const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, "");
}

/**
 * `touch -d @SECONDS` (GNU's epoch form, as in `touch -d @1600000000 f`), which just-bash's touch
 * refuses as an invalid date (it hands the text to `new Date`, which has no `@` form): the epoch
 * is turned into the ISO date it stands for, which just-bash's touch takes. Without this a script
 * that sets mtimes this way leaves every file at its creation time, and the failure is easy to
 * miss inside a loop. Everything else is as given.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const EPOCH = /^@(-?\d+(?:\.\d+)?)$/;

/** `@SECONDS` as an ISO date, or the text unchanged. */
function fromEpoch(text: string): string {
  const match = EPOCH.exec(text);
  if (!match) return text;
  const date = new Date(Number(match[1]) * 1000);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

export const touchCommand: Command = defineCommand("touch", async (args, ctx) => {
  const rewritten = args.map((arg, index) => {
    if (arg.startsWith("--date=")) return `--date=${fromEpoch(arg.slice("--date=".length))}`;
    const previous = args[index - 1];
    return previous === "-d" || previous === "--date" ? fromEpoch(arg) : arg;
  });
  return original(ctx, rewritten);
});

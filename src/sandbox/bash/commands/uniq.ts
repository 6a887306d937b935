/** `uniq -c` with GNU's count column (`%7d `); just-bash pads counts to four characters. */
import { type Command, defineCommand } from "just-bash";
import { hasFlag, original } from "./command-io.ts";

export const uniqCommand: Command = defineCommand("uniq", async (args, ctx) => {
  const result = await original(ctx, args);
  if (!hasFlag(args, "c", "--count")) return result;
  return {
    ...result,
    stdout: result.stdout.replace(/^ *(\d+) /gm, (_match, count: string) => `${count.padStart(7)} `),
  };
});

/**
 * `paste` reading stdin when no file is named, and clustered options (`-sd,`), as GNU allows;
 * just-bash's paste wants `-s -d , -` spelled out.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

export const pasteCommand: Command = defineCommand("paste", async (args, ctx) => {
  const expanded: string[] = [];
  let files = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const cluster = /^-([sz]*)d(.*)$/.exec(arg);
    if (cluster) {
      for (const letter of cluster[1] ?? "") expanded.push(`-${letter}`);
      expanded.push("-d", cluster[2] || (args[++i] ?? ""));
    } else if (/^-[sz]+$/.test(arg)) {
      for (const letter of arg.slice(1)) expanded.push(`-${letter}`);
    } else {
      if (!arg.startsWith("-") || arg === "-") files++;
      expanded.push(arg);
    }
  }
  if (files === 0) expanded.push("-");
  return original(ctx, expanded);
});

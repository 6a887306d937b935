/**
 * `head -n -N` / `head -c -N` (all but the last N lines or bytes), which just-bash rejects; other
 * forms go to just-bash's head.
 */
import { type Command, defineCommand } from "just-bash";
import { original, readOperand, splitLines } from "./command-io.ts";

export const headCommand: Command = defineCommand("head", async (args, ctx) => {
  let mode: "lines" | "bytes" | undefined;
  let drop = 0;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const negative = /^(?:-([nc])|--(lines|bytes)=?)(-\d+)?$/.exec(arg);
    if (negative && (negative[3] ?? (args[i + 1] ?? "").match(/^-\d+$/))) {
      mode = negative[1] === "c" || negative[2] === "bytes" ? "bytes" : "lines";
      drop = -Number(negative[3] ?? args[++i]);
    } else if (arg.startsWith("-") && arg !== "-") {
      return original(ctx, args);
    } else {
      files.push(arg);
    }
  }
  if (!mode) return original(ctx, args);
  let stdout = "";
  let stderr = "";
  for (const file of files.length > 0 ? files : ["-"]) {
    const read = await readOperand(ctx, "head", file);
    if ("error" in read) {
      stderr += read.error;
      continue;
    }
    if (files.length > 1) stdout += `${stdout ? "\n" : ""}==> ${file} <==\n`;
    if (mode === "bytes") {
      const bytes = new TextEncoder().encode(read.text);
      stdout += new TextDecoder().decode(bytes.subarray(0, Math.max(0, bytes.byteLength - drop)));
    } else {
      const lines = splitLines(read.text);
      const kept = lines.slice(0, Math.max(0, lines.length - drop));
      stdout += kept.map((line) => `${line}\n`).join("");
    }
  }
  return { stdout, stderr, exitCode: stderr ? 1 : 0 };
});

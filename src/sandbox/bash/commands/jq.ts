/**
 * `jq` filters whose output just-bash's jq gives differently from jq 1.7: `group_by` and `unique`
 * keep first-appearance order there (jq sorts), and `@csv` leaves strings unquoted. The filter is
 * rewritten to call definitions with jq's behaviour, prepended to it; names inside string
 * literals and field names (`.unique`) are left alone. Everything else is just-bash's jq.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const PREFIX = "_tether_";

/** Replacements: a builtin's name (or format) → a definition with jq's own output. */
const DEFINITIONS: Record<string, { name: string; def: string }> = {
  group_by: { name: `${PREFIX}group_by`, def: `def ${PREFIX}group_by(f): sort_by(f) | group_by(f);` },
  unique: { name: `${PREFIX}unique`, def: `def ${PREFIX}unique: sort | unique;` },
  "@csv": {
    name: `${PREFIX}csv`,
    def:
      `def ${PREFIX}csv: map(if type == "string" then "\\"" + gsub("\\""; "\\"\\"") + "\\"" ` +
      `elif type == "null" then "" elif type == "boolean" then error("\\(type) (\\(.)) is not valid in a csv row") ` +
      "else tostring end) | join(\",\");",
  },
};

/** Options that take the next word (or two) as their value. */
const VALUES: Record<string, number> = { "--arg": 2, "--argjson": 2, "--slurpfile": 2, "--rawfile": 2, "--indent": 1, "-L": 1 };

/** The index of the filter among the arguments, or -1 (e.g. `-f file`). */
function filterIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-f" || arg === "--from-file") return -1;
    if (arg === "--args" || arg === "--jsonargs") return i + 1 < args.length ? i + 1 : -1;
    if (arg in VALUES) {
      i += VALUES[arg] as number;
      continue;
    }
    if (arg === "--" ) return i + 1 < args.length ? i + 1 : -1;
    if (!arg.startsWith("-") || arg === "-") return i;
  }
  return -1;
}

/** The filter with the covered builtins renamed outside string literals, and their definitions. */
export function rewriteFilter(filter: string): string {
  const used = new Set<string>();
  let out = "";
  let i = 0;
  while (i < filter.length) {
    const char = filter[i] as string;
    if (char === '"') {
      // A string literal, with escapes (interpolations inside stay as written).
      let j = i + 1;
      while (j < filter.length && filter[j] !== '"') j += filter[j] === "\\" ? 2 : 1;
      out += filter.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (char === "#") {
      const end = filter.indexOf("\n", i);
      out += end < 0 ? filter.slice(i) : filter.slice(i, end);
      i = end < 0 ? filter.length : end;
      continue;
    }
    const word = /^@?[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(i))?.[0];
    if (word) {
      const before = filter[i - 1] ?? "";
      const replacement = DEFINITIONS[word];
      if (replacement && !/[.$A-Za-z0-9_]/.test(before)) {
        used.add(word);
        out += replacement.name;
      } else out += word;
      i += word.length;
      continue;
    }
    out += char;
    i++;
  }
  if (used.size === 0) return filter;
  return `${[...used].map((word) => DEFINITIONS[word]?.def).join(" ")} ${out}`;
}

export const jqCommand: Command = defineCommand("jq", async (args, ctx) => {
  const at = filterIndex(args);
  if (at < 0) return original(ctx, args);
  const filter = args[at] as string;
  const rewritten = rewriteFilter(filter);
  if (rewritten === filter) return original(ctx, args);
  return original(
    ctx,
    args.map((arg, index) => (index === at ? rewritten : arg)),
  );
});

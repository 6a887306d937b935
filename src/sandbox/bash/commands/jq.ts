/**
 * `jq` filters whose output just-bash's jq gives differently from jq 1.7: `group_by` and `unique`
 * keep first-appearance order there (jq sorts), `@csv` leaves strings unquoted, and `del` of
 * several paths or of `P[] | select(C)` deletes nothing. The filter is
 * rewritten: `group_by(f)` sorts by `f` first, the others call definitions with jq's behaviour,
 * prepended to it (just-bash's jq cannot redefine a builtin, and evaluates a definition's filter
 * argument in the wrong context, so `group_by` is rewritten in place). Names inside string
 * literals and field names (`.unique`) are left alone. Everything else is just-bash's jq.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const PREFIX = "_tether_";

/** Replacements: a builtin's name (or format) → a definition with jq's own output. */
const DEFINITIONS: Record<string, { name: string; def: string }> = {
  unique: { name: `${PREFIX}unique`, def: `def ${PREFIX}unique: sort | unique;` },
  "@csv": {
    name: `${PREFIX}csv`,
    def:
      `def ${PREFIX}csv: map(if type == "string" then "\\"" + gsub("\\""; "\\"\\"") + "\\"" ` +
      `elif type == "null" then "" elif type == "boolean" then error("\\(type) (\\(.)) is not valid in a csv row") ` +
      'else tostring end) | join(",");',
  },
};

/** Options that take the next word (or two) as their value. */
const VALUES: Record<string, number> = {
  "--arg": 2,
  "--argjson": 2,
  "--slurpfile": 2,
  "--rawfile": 2,
  "--indent": 1,
  "-L": 1,
};

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
    if (arg === "--") return i + 1 < args.length ? i + 1 : -1;
    if (!arg.startsWith("-") || arg === "-") return i;
  }
  return -1;
}

/** The filter with the covered builtins renamed outside string literals, and their definitions. */
export function rewriteFilter(filter: string): string {
  const { text, used } = rewriteNames(filter);
  if (used.size === 0 && text === filter) return filter;
  return [...[...used].map((word) => DEFINITIONS[word]?.def), text].join(" ").trim();
}

/** The end of a string literal starting at `start` (the index after its closing quote). */
function stringEnd(filter: string, start: number): number {
  let j = start + 1;
  while (j < filter.length && filter[j] !== '"') j += filter[j] === "\\" ? 2 : 1;
  return j + 1;
}

/** The index of the parenthesis closing the one at `open`, or -1. */
function closing(filter: string, open: number): number {
  let depth = 0;
  for (let j = open; j < filter.length; j++) {
    const char = filter[j];
    if (char === '"') j = stringEnd(filter, j) - 1;
    else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return j;
  }
  return -1;
}

const FIELD_PATH = /^\s*(\.[A-Za-z_][A-Za-z0-9_]*)+\s*$/;
const SELECTED = /^\s*((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\.?\[\]\s*\|\s*select\(([\s\S]*)\)\s*$/;

/**
 * The forms of `del(…)` just-bash's jq gets wrong that have an exact equivalent it gets right:
 * `del(.a, .b.c)` (field paths only: array indexes would shift between deletions) and
 * `del(P[] | select(C))`. Undefined for any other argument (left to just-bash).
 */
function rewriteDel(argument: string): string | undefined {
  const parts = splitTopLevel(argument);
  if (parts.length > 1 && parts.every((part) => FIELD_PATH.test(part))) {
    return `(${parts.map((part) => `del(${part.trim()})`).join(" | ")})`;
  }
  const selected = parts.length === 1 ? SELECTED.exec(argument) : null;
  if (!selected) return undefined;
  const [, path = "", condition = ""] = selected;
  if (closing(`(${condition})`, 0) !== condition.length + 1) return undefined; // `select(a) | b(c)`
  const keep =
    `(if type == "array" then map(select((${condition}) | not)) ` +
    `else with_entries(select(.value | (${condition}) | not)) end)`;
  return path === "" ? keep : `(${path} |= ${keep})`;
}

/** The filter's top-level comma-separated parts (outside parentheses, brackets and strings). */
function splitTopLevel(filter: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let j = 0; j < filter.length; j++) {
    const char = filter[j];
    if (char === '"') j = stringEnd(filter, j) - 1;
    else if (char === "(" || char === "[" || char === "{") depth++;
    else if (char === ")" || char === "]" || char === "}") depth--;
    else if (char === "," && depth === 0) {
      parts.push(filter.slice(from, j));
      from = j + 1;
    }
  }
  parts.push(filter.slice(from));
  return parts;
}

function rewriteNames(filter: string): { text: string; used: Set<string> } {
  const used = new Set<string>();
  let out = "";
  let i = 0;
  while (i < filter.length) {
    const char = filter[i] as string;
    if (char === '"') {
      // A string literal, with escapes (interpolations inside stay as written).
      const end = stringEnd(filter, i);
      out += filter.slice(i, end);
      i = end;
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
      // Not a field (`.unique`), a variable, part of a longer name, or an object key (`{unique: 1}`).
      const after = filter.slice(i + word.length).trimStart();
      const standalone = !/[.$A-Za-z0-9_]/.test(before) && !after.startsWith(":");
      const close = filter[i + word.length] === "(" ? closing(filter, i + word.length) : -1;
      const deletion = word === "del" && standalone && close > 0 ? rewriteDel(filter.slice(i + 4, close)) : undefined;
      if (deletion !== undefined) {
        out += deletion;
        i = close + 1;
        continue;
      }
      if (word === "group_by" && standalone && close > 0) {
        const inner = rewriteNames(filter.slice(i + word.length + 1, close));
        for (const name of inner.used) used.add(name);
        out += `(sort_by(${inner.text}) | group_by(${inner.text}))`;
        i = close + 1;
        continue;
      }
      const replacement = DEFINITIONS[word];
      if (replacement && standalone) {
        used.add(word);
        out += replacement.name;
      } else out += word;
      i += word.length;
      continue;
    }
    out += char;
    i++;
  }
  return { text: out, used };
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

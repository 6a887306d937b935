/**
 * Glob patterns from the agent, matched in linear time.
 *
 * Why: glob libraries compile a pattern to a backtracking JavaScript RegExp, and a pattern such as
 * `**\/*a*a*a*a*a*a*a*b` (or nested extglobs) against one long file name takes seconds to minutes;
 * in a Worker nothing can interrupt that. Here the pattern is translated to RE2 syntax and run on
 * the linear-time engine, like the grep tool's patterns.
 *
 * Syntax (dotfiles match like any file): `*` and `?` within a path segment, `**` as a whole segment
 * for any number of segments, `[abc]`, `[!a-z]` / `[^a-z]`, `{a,b}` (nested, across `/`), `\x` for a
 * literal x. Extglobs (`+(…)`, `@(…)`) are not supported: their characters match literally.
 */
import { RE2JS } from "re2js";
import type { LinearRegex } from "./linear-regex.ts";

/** More alternatives than this from `{…}` is refused: the pattern would be unreasonably large. */
const MAX_ALTERNATIVES = 1_000;

export class GlobSyntaxError extends Error {
  override readonly name = "GlobSyntaxError";
}

/** A matcher for whole relative paths (`src/a.ts`), or throws GlobSyntaxError. */
export function compileGlob(glob: string): LinearRegex {
  const alternatives = expandBraces(glob).map(globToRegex);
  const pattern = RE2JS.compile(`^(?:${alternatives.join("|")})$`, RE2JS.DOTALL);
  return { test: (path: string) => pattern.test(path) };
}

/** `a{b,c{d,e}}f` → [abf, acdf, acef]; braces without a top-level comma stay literal. */
function expandBraces(glob: string): string[] {
  const open = findBrace(glob);
  if (!open) return [glob];
  const { start, end, parts } = open;
  const results: string[] = [];
  for (const part of parts) {
    for (const expanded of expandBraces(glob.slice(0, start) + part + glob.slice(end + 1))) {
      results.push(expanded);
      if (results.length > MAX_ALTERNATIVES)
        throw new GlobSyntaxError(`the pattern expands to more than ${MAX_ALTERNATIVES} alternatives`);
    }
  }
  return results;
}

/** The first `{…}` with a top-level comma: where it is and its comma-separated parts. */
function findBrace(glob: string): { start: number; end: number; parts: string[] } | undefined {
  for (let start = 0; start < glob.length; start++) {
    if (glob[start] === "\\") {
      start++;
      continue;
    }
    if (glob[start] !== "{") continue;
    let depth = 0;
    const commas: number[] = [];
    for (let i = start; i < glob.length; i++) {
      const char = glob[i];
      if (char === "\\") i++;
      else if (char === "{") depth++;
      else if (char === "," && depth === 1) commas.push(i);
      else if (char === "}" && --depth === 0) {
        if (commas.length === 0) break; // `{x}` is literal
        const bounds = [start, ...commas, i];
        const parts = bounds.slice(1).map((at, k) => glob.slice((bounds[k] as number) + 1, at));
        return { start, end: i, parts };
      }
    }
  }
  return undefined;
}

function globToRegex(glob: string): string {
  const segments = glob.split("/");
  let out = "";
  let joined = true; // the next segment needs no "/" before it
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === "**") {
      if (last) out += i === 0 ? ".*" : "(?:/.*)?";
      else out += i === 0 ? "(?:.*/)?" : "/(?:.*/)?";
      joined = true;
      continue;
    }
    out += (i === 0 || joined ? "" : "/") + segmentToRegex(segment);
    joined = false;
  }
  return out;
}

function segmentToRegex(segment: string): string {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === "\\" && i + 1 < segment.length) out += RE2JS.quote(segment[++i] as string);
    else if (char === "*") {
      while (segment[i + 1] === "*") i++;
      out += "[^/]*";
    } else if (char === "?") out += "[^/]";
    else if (char === "[") {
      const close = classEnd(segment, i);
      if (close < 0) out += "\\[";
      else {
        let body = segment.slice(i + 1, close);
        const negated = body.startsWith("!") || body.startsWith("^");
        if (negated) body = body.slice(1);
        out += `[${negated ? "^/" : ""}${body.replaceAll("\\", "\\\\").replaceAll("[", "\\[")}]`;
        i = close;
      }
    } else out += RE2JS.quote(char);
  }
  return out;
}

/** The index of the `]` closing the class opened at `open` (a leading `]` is literal), or -1. */
function classEnd(segment: string, open: number): number {
  let i = open + 1;
  if (segment[i] === "!" || segment[i] === "^") i++;
  if (segment[i] === "]") i++;
  const close = segment.indexOf("]", i);
  return close;
}

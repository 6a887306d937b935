/**
 * Regular expressions from the agent, compiled for a linear-time engine (RE2, through `re2js`).
 *
 * Why: in a Worker the clock stands still during pure computation, so no deadline can stop a
 * backtracking engine stuck on `(a+)+$` against `aaaa…!`; the whole Durable Object would spin
 * until the platform's CPU limit resets it. RE2 matches in time linear in the input, whatever the
 * pattern. The shell's own grep, sed, awk, expr, jq and `[[ =~ ]]` already run on RE2 inside
 * just-bash; this is the same engine for the tools outside the shell.
 *
 * Patterns are written in JavaScript syntax and translated (named groups, `\uXXXX`, `[^]`). What
 * RE2 cannot do in linear time (backreferences, lookahead, lookbehind) is refused up front with a
 * message that names the construct, instead of the engine's less helpful wording.
 */
import { RE2JS } from "re2js";

/** What a compiled pattern offers: the one question grep-like tools ask of a line. */
export interface LinearRegex {
  /** True when the pattern matches anywhere in `text`. */
  test(text: string): boolean;
}

export class RegexSyntaxError extends Error {
  override readonly name = "RegexSyntaxError";
}

const ENGINE = "patterns run on a linear-time engine (RE2 syntax)";

/** Compiles `pattern` (JavaScript syntax) for the linear-time engine, or throws RegexSyntaxError. */
export function compileLinearRegex(pattern: string): LinearRegex {
  const unsupported = unsupportedConstruct(pattern);
  if (unsupported) throw new RegexSyntaxError(`${unsupported} is not supported: ${ENGINE}`);
  try {
    return RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^error parsing regexp: /i, "") : String(error);
    throw new RegexSyntaxError(`invalid regular expression: ${detail}`);
  }
}

/** The engine's complaint about a pattern, or undefined when it compiles. */
export function linearRegexProblem(pattern: string): string | undefined {
  try {
    compileLinearRegex(pattern);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Names the first construct RE2 cannot run, scanning outside character classes and escapes, or
 * undefined. RE2 would reject most of these itself, but `\k<name>` it would silently read as the
 * literal `k<name>`, and lookbehind as a malformed named group.
 */
function unsupportedConstruct(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(next)) return `the backreference \\${next}`;
      if (!inClass && next === "k" && pattern[i + 2] === "<") return "the named backreference \\k<…>";
      i++;
      continue;
    }
    if (inClass) {
      if (char === "]") inClass = false;
      continue;
    }
    if (char === "[") {
      inClass = true;
      if (pattern[i + 1] === "^") i++;
      if (pattern[i + 1] === "]") i++; // a leading ] is a literal
      continue;
    }
    if (char === "(" && pattern[i + 1] === "?") {
      const head = pattern.slice(i + 2, i + 4);
      if (head.startsWith("=")) return "lookahead (?=…)";
      if (head.startsWith("!")) return "negative lookahead (?!…)";
      if (head === "<=") return "lookbehind (?<=…)";
      if (head === "<!") return "negative lookbehind (?<!…)";
    }
  }
  return undefined;
}

import { describe, expect, it } from "vitest";
import { symbolicMode } from "../../src/sandbox/bash/commands/find.ts";
import { rewriteFilter } from "../../src/sandbox/bash/commands/jq.ts";
import { roundLikeBash } from "../../src/sandbox/bash/commands/printf.ts";

// The rewrites behind the GNU-compatible commands, case by case (the fidelity corpus compares
// their output with the real tools).

describe("printf %.Nf rounding", () => {
  it("rounds the long double's exact value, an exact tie to even, as glibc does", () => {
    const cases: Array<[string, number, string]> = [
      ["0.5", 0, "0"],
      ["1.5", 0, "2"],
      ["2.5", 0, "2"],
      ["-2.5", 0, "-2"],
      ["0.25", 1, "0.2"],
      ["2.675", 2, "2.67"],
      ["1.0005", 3, "1.001"],
      ["1e3", 1, "1000.0"],
      [".5", 0, "0"],
    ];
    for (const [text, digits, expected] of cases) expect(roundLikeBash(text, digits), text).toBe(expected);
    expect(roundLikeBash("0x10", 0)).toBeUndefined();
    expect(roundLikeBash("abc", 2)).toBeUndefined();
  });
});

describe("jq filter rewrite", () => {
  it("rewrites the builtins outside strings, fields and object keys", () => {
    expect(rewriteFilter(". | unique")).toMatch(/^def _tether_unique: sort \| unique; \. \| _tether_unique$/);
    expect(rewriteFilter("group_by(.a)")).toBe("(sort_by(.a) | group_by(.a))");
    expect(rewriteFilter('.unique, "unique", {unique: 1}, unique_by(.x)')).toBe(
      '.unique, "unique", {unique: 1}, unique_by(.x)',
    );
    expect(rewriteFilter("del(.a, .b)")).toBe("(del(.a) | del(.b))");
    expect(rewriteFilter("del(.[0,2])")).toBe("del(.[0,2])");
  });
});

describe("find -perm symbolic modes", () => {
  it("gives the octal mode applied to 000", () => {
    expect(symbolicMode("u+x")).toBe(0o100);
    expect(symbolicMode("a=r")).toBe(0o444);
    expect(symbolicMode("u=rwx,g=rx")).toBe(0o750);
    expect(symbolicMode("q+x")).toBeUndefined();
  });
});

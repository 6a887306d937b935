import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { classifyFailure, timeoutMessage, withoutStopLine } from "../../src/sandbox/bash/run-failure.ts";
import { CPU_LIMIT_MS, WORK_PER_SECOND, workLimits } from "../../src/sandbox/bash/work-budget.ts";
import { compileGlob } from "../../src/sandbox/regex/glob-regex.ts";
import { compileLinearRegex } from "../../src/sandbox/regex/linear-regex.ts";

// The pieces that bound CPU-bound work, without a shell: budgets, the one wording, the matchers.

describe("work budget", () => {
  it("is in proportion to the timeout, at least a second's worth, and within the CPU limit", () => {
    expect(workLimits(2_000)).toEqual({
      maxCommandCount: 2 * WORK_PER_SECOND.commands,
      maxLoopIterations: 2 * WORK_PER_SECOND.commands,
      maxAwkIterations: 2 * WORK_PER_SECOND.awk,
      maxSedIterations: 2 * WORK_PER_SECOND.sed,
      maxJqIterations: 2 * WORK_PER_SECOND.jq,
    });
    expect(workLimits(1).maxCommandCount).toBe(WORK_PER_SECOND.commands);
    expect(workLimits(600_000).maxCommandCount).toBe((CPU_LIMIT_MS / 2 / 1000) * WORK_PER_SECOND.commands);
  });

  it("is computed from the CPU limit wrangler.toml deploys", () => {
    const config = unstable_readConfig({ config: new URL("../../wrangler.toml", import.meta.url).pathname });
    expect(config.limits?.cpu_ms).toBe(CPU_LIMIT_MS);
  });
});

describe("one wording for stops that stand for time", () => {
  const time = { aborted: false, elapsedMs: 10, timeoutMs: 2_000 };
  const budget = "bash: too many commands executed (>20000), increase executionLimits.maxCommandCount\n";
  const deadline = "bash: exceeded execution deadline\n";

  it("the work budget and the deadline say the same", () => {
    const byWork = classifyFailure({ stderr: budget, exitCode: 126 }, time, false);
    const byClock = classifyFailure({ stderr: deadline, exitCode: 124 }, time, false);
    expect(byWork).toEqual({ kind: "timeout", message: timeoutMessage(2_000) });
    expect(byClock).toEqual(byWork);
    expect(withoutStopLine(`partial\n${budget}`, byWork)).toBe("partial\n");
    expect(withoutStopLine(`partial\n${deadline}`, byClock)).toBe("partial\n");
  });

  it("a last command stopped by its budget counts when the script ended; a user's own exit 124 does not", () => {
    const awk = "awk: awk: for loop exceeded maximum iterations (200000)\n";
    expect(classifyFailure({ stderr: awk, exitCode: 126 }, time, true)?.kind).toBe("timeout");
    expect(classifyFailure({ stderr: "", exitCode: 124 }, time, true)).toBeUndefined();
    expect(classifyFailure({ stderr: "my own message\n", exitCode: 126 }, time, true)).toBeUndefined();
  });

  it("limits about space stay limits", () => {
    const failure = classifyFailure({ stderr: "bash: string length limit exceeded\n", exitCode: 126 }, time, false);
    expect(failure?.kind).toBe("limit");
    expect(withoutStopLine("x\n", failure)).toBe("x\n");
  });
});

describe("linear-time matchers", () => {
  it("a catastrophic pattern is just a pattern", () => {
    expect(compileLinearRegex("(a+)+$").test(`${"a".repeat(100_000)}!`)).toBe(false);
    expect(compileLinearRegex("(?<y>\\d{4})-\\u0041").test("2024-A")).toBe(true);
    expect(compileGlob("**/*a*a*a*a*a*a*a*a*b").test(`x/${"a".repeat(10_000)}!`)).toBe(false);
  });

  it("globs match as shells do", () => {
    const cases: Array<[string, string, boolean]> = [
      ["**/*.ts", "a.ts", true],
      ["**/*.ts", "x/y/a.ts", true],
      ["*.ts", "x/a.ts", false],
      ["src/*.{ts,js}", "src/a.js", true],
      ["a/**/b", "a/b", true],
      ["a/**/b", "a/x/y/b", true],
      ["[!a]*", "abc", false],
      ["?.md", "x.md", true],
      ["\\*.txt", "*.txt", true],
      ["{a,b}/{c,d}.txt", "b/c.txt", true],
    ];
    for (const [glob, path, expected] of cases) expect(compileGlob(glob).test(path), `${glob} ${path}`).toBe(expected);
  });

  it("refuses what cannot run in linear time, or a glob too large, by name", () => {
    expect(() => compileLinearRegex("(a)\\1")).toThrow("the backreference \\1 is not supported");
    expect(() => compileLinearRegex("a(?=b)")).toThrow("lookahead (?=…) is not supported");
    expect(() => compileGlob("{a,b}".repeat(11))).toThrow("more than 1000 alternatives");
  });
});

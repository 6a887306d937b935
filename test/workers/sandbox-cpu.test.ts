/**
 * CPU-bound work cannot take a sandbox down: catastrophic regular expressions run on a
 * linear-time engine, and busy loops are stopped by work limits in proportion to the timeout (the
 * clock may stand still during pure computation). After each, a file written before is still there.
 * (A call the platform cuts off anyway: sandbox-cut-off.test.ts.)
 *
 * No assertion depends on which stop fires first or on the machine's speed: a stop says one thing
 * whether the timeout or the work budget noticed (how long each takes: bench/sandbox-cpu.bench.ts).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { bash, EVIL_LINE, expectKept, preparedSandbox, runTool, warmUp } from "./sandbox-helpers.ts";

const STOPPED =
  /^timeout: the command was stopped at its 2 s timeout \(the time, or the work budgeted for that time, ran out; a larger timeout_ms allows more\)$/m;

beforeAll(warmUp, 60_000);

describe("catastrophic regular expressions run in linear time", () => {
  test("grep tool: (a+)+$ against 40 a's and a ! finds nothing and returns", async () => {
    const sandbox = await preparedSandbox();
    const result = await runTool(sandbox, "grep", { pattern: "(a+)+$", path: "/workspace/evil.txt" });
    expect(result).toMatchObject({ isError: false, text: "No matches for /(a+)+$/ in /workspace/evil.txt" });
    const found = await runTool(sandbox, "grep", { pattern: "(a+)+!$", path: "/workspace/evil.txt" });
    expect(found.text).toBe(`/workspace/evil.txt:1:${EVIL_LINE}`);
    await expectKept(sandbox);
  });

  test("glob tool: a pattern with many stars against a long name returns", async () => {
    const sandbox = await preparedSandbox();
    await bash(sandbox, `touch "${"a".repeat(200)}!"`);
    const result = await runTool(sandbox, "glob", { pattern: "**/*a*a*a*a*a*a*a*a*a*b" });
    expect(result).toMatchObject({
      isError: false,
      text: "No files found matching **/*a*a*a*a*a*a*a*a*a*b in /workspace",
    });
    const found = await runTool(sandbox, "glob", { pattern: "**/*a*a*a*a*a*a*a*a*a*!" });
    expect(found.text).toBe(`/workspace/${"a".repeat(200)}!`);
    const tooMany = await runTool(sandbox, "glob", { pattern: "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}" });
    expect(tooMany).toMatchObject({ isError: true, meta: { error_kind: "invalid_input" } });
    expect(tooMany.text).toContain("the pattern expands to more than 1000 alternatives");
    await expectKept(sandbox);
  });

  test("grep tool: backreferences and lookaround are refused, naming the construct", async () => {
    const sandbox = await preparedSandbox();
    const cases: Array<[string, string]> = [
      ["(a)\\1", "the backreference \\1"],
      ["(?<x>a)\\k<x>", "the named backreference \\k<…>"],
      ["a(?=b)", "lookahead (?=…)"],
      ["a(?!b)", "negative lookahead (?!…)"],
      ["(?<=a)b", "lookbehind (?<=…)"],
      ["(?<!a)b", "negative lookbehind (?<!…)"],
    ];
    for (const [pattern, construct] of cases) {
      const result = await runTool(sandbox, "grep", { pattern, path: "/workspace/evil.txt" });
      expect(result.isError).toBe(true);
      expect(result.meta.error_kind).toBe("invalid_input");
      expect(result.text).toContain(`${construct} is not supported: patterns run on a linear-time engine (RE2 syntax)`);
    }
    // Inside a class or escaped, the same characters are plain text and allowed.
    const literal = await runTool(sandbox, "grep", { pattern: "[(?=]\\(\\?!", path: "/workspace/evil.txt" });
    expect(literal.isError).toBe(false);
    const invalid = await runTool(sandbox, "grep", { pattern: "a[", path: "/workspace/evil.txt" });
    expect(invalid.text).toContain("invalid regular expression: missing closing ]");
    await expectKept(sandbox);
  });

  test("bash grep, sed and awk: (a+)+$ on the same line finishes with the right answer", async () => {
    const sandbox = await preparedSandbox();
    const commands = [
      "grep -E '(a+)+$' evil.txt; echo grep-E=$?",
      "grep '\\(a\\+\\)\\+$' evil.txt; echo grep-G=$?",
      "sed -E 's/(a+)+$/X/' evil.txt",
      "sed -n '/\\(a*\\)*b/p' evil.txt; echo sed-n=$?",
      'awk \'/(a+)+$/ { print "match" } END { print "awk done" }\' evil.txt',
      "awk '{ n = gsub(/(a+)+$/, \"X\"); print n }' evil.txt",
      "x=$(cat evil.txt); [[ $x =~ (a+)+$ ]] && echo m || echo no-match",
    ];
    const result = await bash(sandbox, commands.join("; "));
    expect(result.isError).toBe(false);
    expect(result.text).toBe(
      ["grep-E=1", "grep-G=1", EVIL_LINE, "sed-n=0", "awk done", "0", "no-match", ""].join("\n"),
    );
    await expectKept(sandbox);
  });
});

describe("busy loops are stopped by work in proportion to the timeout", () => {
  const loops: Array<[string, string]> = [
    ["awk's endless for loop", "awk 'BEGIN{for(;;)x++}'"],
    [
      "a shell loop with heavy arithmetic each iteration",
      "for ((i = 0; ; i++)); do x=$(( (i*i*i*i*i*i*i*i + i*7 - i/3 + i%5) ^ (i<<2) | (i>>1) & 255 )); done",
    ],
    ["a shell while loop", "i=0; while :; do i=$((i + 1)); done"],
    ["sed's endless branch", "echo x | sed ':a;s/x/x/;ba'"],
  ];
  for (const [name, command] of loops) {
    test(`${name}: is_error, one clear wording, and the sandbox goes on`, async () => {
      const sandbox = await preparedSandbox();
      const stopped = await runTool(sandbox, "bash", { command, timeout_ms: 2_000 });
      expect(stopped.isError).toBe(true);
      expect(stopped.meta.error_kind).toBe("timeout");
      expect(stopped.text).toMatch(STOPPED);
      // just-bash's own wording (which differs by limit and names its options) is not passed on.
      expect(stopped.text).not.toMatch(/executionLimits|maximum iterations|too many/);
      await expectKept(sandbox);
    }, 120_000);
  }
});

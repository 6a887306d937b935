import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import type { SandboxFiles } from "../../src/sandbox/run-code/files.ts";
import { CodeSyntaxError, guardCode } from "../../src/sandbox/run-code/guard.ts";
import { runCode } from "../../src/sandbox/run-code/run-code.ts";

// Short timeouts: the guard is what ends these runs, so a broken guard fails the test through the
// host's own bound (timeout + grace) instead of hanging the suite.
const TIMEOUT_MS = 200;

const noFiles: SandboxFiles = {
  readFile: () => Promise.reject(new Error("no files in this test")),
  writeFile: () => Promise.reject(new Error("no files in this test")),
};

function run(code: string, timeout_ms = TIMEOUT_MS) {
  return runCode(env.LOADER, { code, language: "javascript", timeout_ms }, { files: noFiles, allowHosts: [] });
}

// Three stops end a run, each correct: the guard's deadline (where the clock moves), its iteration
// bound (where it does not, as in production) and the isolate's timer (code that waits). Which
// fires first depends on the machine's speed, so the tests accept any of them and assert what
// matters: stopped, said so, and the next run works.
const GUARD_STOP =
  /^run_code timed out after 200 ms(: stopped by the deadline guard|: stopped at the iteration bound for that timeout \(\d+ guard checks\)| \(the code was still waiting\))$/;

async function expectStoppedThenNextRunWorks(code: string, reason: RegExp | string = GUARD_STOP) {
  const stopped = await run(code);
  expect(stopped.timedOut).toBe(true);
  if (typeof reason === "string") expect(stopped.error).toBe(reason);
  else expect(stopped.error).toMatch(reason);
  const next = await run(`console.log("still here"); 1 + 1`);
  expect(next).toMatchObject({ stdout: "still here\n", result: 2, timedOut: false });
  expect(next.error).toBeUndefined();
  return stopped;
}

describe("the deadline guard stops runaway code, and the next run works", () => {
  test("while (true) {}", async () => {
    await expectStoppedThenNextRunWorks("while (true) {}");
  });

  test("output written before the stop is kept", async () => {
    const stopped = await expectStoppedThenNextRunWorks(`console.log("started");\nfor (;;);`);
    expect(stopped.stdout).toBe("started\n");
  });

  test("for (;;) { try {} catch {} }", async () => {
    await expectStoppedThenNextRunWorks("for (;;) { try {} catch {} }");
  });

  test("try { while (1) {} } catch (e) {} cannot swallow the stop", async () => {
    await expectStoppedThenNextRunWorks("try { while (1) {} } catch (e) {}\nreturn 'swallowed'");
  });

  test("a loop that catches the stop and loops again", async () => {
    await expectStoppedThenNextRunWorks("while (true) { try { while (true) {} } catch {} }");
  });

  test("finally { continue } / finally { return } cannot swallow it either", async () => {
    await expectStoppedThenNextRunWorks("for (;;) { try { for (;;) {} } finally { continue; } }");
    await expectStoppedThenNextRunWorks(
      "const f = () => { try { for (;;) {} } finally { return 1; } };\nwhile (true) f();",
    );
  });

  test("a busy loop inside a function called in a loop", async () => {
    await expectStoppedThenNextRunWorks(
      "function busy() { let x = 0; for (let i = 0; i < 1e6; i++) x += i; return x; }\nwhile (true) busy();",
    );
  });

  test("recursion that catches its own overflow and recurses again", async () => {
    await expectStoppedThenNextRunWorks("function f() { try { f(); } catch { f(); } }\nf();");
  });

  test("an endless chain of callbacks: timers, promises and array methods", async () => {
    await expectStoppedThenNextRunWorks(
      "function tick() { setTimeout(tick, 0); }\ntick();\nawait new Promise(() => {});",
    );
    await expectStoppedThenNextRunWorks("const spin = () => Promise.resolve().then(spin);\nawait spin();");
    await expectStoppedThenNextRunWorks("const a = [1, 2, 3];\nwhile (true) a.map((x) => x * 2).forEach(() => {});");
  });

  test("an async loop and a generator that never end", async () => {
    await expectStoppedThenNextRunWorks("while (true) { await null; }");
    await expectStoppedThenNextRunWorks("function* g() { for (;;) yield 1; }\nfor (const x of g()) {}");
  });

  test("code that only waits is stopped by the isolate's timer", async () => {
    await expectStoppedThenNextRunWorks(
      "await new Promise((r) => setTimeout(r, 60_000));",
      "run_code timed out after 200 ms (the code was still waiting)",
    );
  });

  test("Promise.allSettled swallowing the stop still ends as a timeout", async () => {
    await expectStoppedThenNextRunWorks(
      "const spin = async () => { for (;;) {} };\nawait Promise.allSettled([spin()]);\nreturn 'got past it';",
    );
  });

  test("a callback left behind by a finished run does not run on", async () => {
    const first = await run("setTimeout(() => { for (;;) {} }, 0);\nreturn 'done';");
    expect(first).toMatchObject({ result: "done", timedOut: false });
    expect((await run("1")).result).toBe(1);
  });

  test("recursion without a base case is a stack overflow error, not a timeout", async () => {
    const result = await run("function f(n) { return f(n + 1) + 1; }\nf(0);");
    expect(result.timedOut).toBe(false);
    expect(result.error).toBe("RangeError: Maximum call stack size exceeded (line 1)");
    expect((await run("'next'")).result).toBe("next");
  });
});

describe("guardCode (the rewrite itself)", () => {
  const guarded = (code: string) => {
    const { body, guardName } = guardCode(code);
    return body.replaceAll(guardName, "G");
  };

  test("loop bodies, with or without braces, start with a guard call", () => {
    expect(guarded("while (a) b();")).toBe("while (a) {G();b();}");
    expect(guarded("for (;;) {}")).toBe("for (;;) {G();}");
    expect(guarded("do x++; while (x < 3)")).toBe("do {G();x++;} while (x < 3)");
    expect(guarded("for (const k in o) for (const v of o[k]) f(v);")).toBe(
      "for (const k in o) {G();for (const v of o[k]) {G();f(v);}}",
    );
  });

  test("every kind of function starts with a guard call", () => {
    expect(guarded("function f() {}")).toBe("function f() {G();}");
    expect(guarded("const f = async function* () {};")).toBe("const f = async function* () {G();};");
    expect(guarded("const f = (x) => ({ x });")).toBe("const f = (x) => ((G(), { x }));");
    expect(guarded("const f = async (x) => { await x; };")).toBe("const f = async (x) => {G(); await x; };");
    expect(guarded("class A { m() {} get v() { return 1; } }")).toBe(
      "class A { m() {G();} get v() {G(); return 1; } }",
    );
  });

  test("catch and finally blocks start with a guard call", () => {
    expect(guarded("try {} catch {} finally {}")).toBe("try {} catch {G();} finally {G();}");
  });

  test("the last expression becomes the result, a lone string too; declarations do not", () => {
    expect(guarded("a = 1\nb + 1")).toBe("a = 1\nreturn (b + 1)");
    expect(guarded("x;")).toBe("return (x);");
    expect(guarded("'text'")).toBe("return ('text')");
    expect(guarded("const x = 1;")).toBe("const x = 1;");
  });

  test("lines stay where they were", () => {
    const code = "let i = 0;\nwhile (i < 3)\n  i++;\nfunction f() {\n  return 1;\n}\ni";
    expect(guarded(code).split("\n")).toHaveLength(code.split("\n").length);
  });

  test("the guard's name does not occur in the code", () => {
    const { guardName } = guardCode("const __tetherGuard_ = 1;");
    expect(guardName).toMatch(/^__tetherGuard_[0-9a-f]{12}$/);
  });

  test("syntax errors carry the parser's message and a 1-based location", () => {
    expect(() => guardCode("if (")).toThrow(CodeSyntaxError);
    expect(() => guardCode("const a = 1;\nconst a = 2;")).toThrow(
      /^Identifier 'a' has already been declared \(line 2, column 7\)$/,
    );
  });
});

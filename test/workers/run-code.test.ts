import { env } from "cloudflare:workers";
import { InMemoryFs } from "just-bash";
import { describe, expect, test } from "vitest";
import { sandboxFilesFromFs } from "../../src/sandbox/run-code/files.ts";
import { OUTPUT_CAP } from "../../src/sandbox/run-code/isolate-source.ts";
import { type RunCodeOptions, runCode } from "../../src/sandbox/run-code/run-code.ts";

function options(fs = new InMemoryFs()): RunCodeOptions {
  return { files: sandboxFilesFromFs(fs), allowHosts: [] };
}

function run(code: string, opts: RunCodeOptions = options(), timeout_ms = 5_000) {
  return runCode(env.LOADER, { code, language: "javascript", timeout_ms }, opts);
}

describe("run_code output and results", () => {
  test("hello world goes to stdout", async () => {
    const result = await run(`console.log("hello, world")`);
    expect(result).toMatchObject({ stdout: "hello, world\n", stderr: "", timedOut: false, networkRefused: [] });
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
  });

  test("console methods split between stdout and stderr; values are formatted", async () => {
    const result = await run(`
      console.log("a", 1, { b: [1, 2] }, null, undefined, 10n);
      console.info("info");
      console.warn("careful");
      console.error(new Error("bad").message);
      const cyclic = { name: "c" }; cyclic.self = cyclic;
      console.log(cyclic);`);
    expect(result.stdout).toBe('a 1 {"b":[1,2]} null undefined 10n\ninfo\n{"name":"c","self":"[Circular]"}\n');
    expect(result.stderr).toBe("careful\nbad\n");
  });

  test("return gives the result as JSON", async () => {
    const result = await run(`const xs = [1, 2, 3];\nreturn { sum: xs.reduce((a, b) => a + b, 0), xs };`);
    expect(result.result).toEqual({ sum: 6, xs: [1, 2, 3] });
  });

  test("a last expression is the result, like a REPL; top-level await works", async () => {
    expect((await run("let a = 20\na + 22")).result).toBe(42);
    expect((await run("const v = await Promise.resolve('later')\nv.toUpperCase()")).result).toBe("LATER");
    expect((await run("console.log('no result')")).result).toBeUndefined();
  });

  test("code is rewritten without changing what it means", async () => {
    const code = `
      let s = 0;
      for (let i = 0; i < 10; i++) s += i;
      let j = 0; do j++; while (j < 5)
      outer: for (const x of [1, 2, 3]) { for (const y of [1, 2]) { if (y === 2) continue outer; s += x * 100; } }
      const f = (x) => ({ x });
      const g = async (x) => await x;
      class A { #v = 1; get v() { return this.#v; } static make() { return new A(); } }
      function* gen() { yield 1; yield 2; }
      if (s > 0) while (false) s = -1; else s = -2;
      const fin = (() => { try { return "try"; } finally { s += 0; } })();
      [s, f(1), await g(2), A.make().v, [...gen()], fin]`;
    expect((await run(code)).result).toEqual([645, { x: 1 }, 2, 1, [1, 2], "try"]);
  });

  test("a value JSON cannot hold is reported as text", async () => {
    expect((await run("return 2n ** 70n")).result).toBe("1180591620717411303424n");
    expect((await run("return function named() {}")).result).toBe("[Function named]");
  });

  test("output past the cap is cut with a marker", async () => {
    const result = await run(`const line = "x".repeat(1023); for (let i = 0; i < 1100; i++) console.log(line);`);
    expect(result.stdout.length).toBeLessThan(OUTPUT_CAP + 100);
    expect(result.stdout).toContain(`[output truncated at ${OUTPUT_CAP} characters]`);
  });
});

describe("run_code errors", () => {
  test("a syntax error names the parser's message and location, and nothing runs", async () => {
    const result = await run(`console.log("never");\nlet x = ;`);
    expect(result.error).toBe("SyntaxError: Unexpected token (line 2, column 9)");
    expect(result).toMatchObject({ stdout: "", timedOut: false });
  });

  test("import declarations are refused with the convention explained", async () => {
    const result = await run(`import fs from "node:fs";`);
    expect(result.error).toMatch(/^SyntaxError: import\/export declarations are not supported.*\(line 1, column 1\)$/);
  });

  test("import() is refused before anything runs: raw sockets would bypass the egress gate", async () => {
    const result = await run(`console.log("never");\nconst { connect } = await import("cloudflare:sockets");`);
    expect(result.error).toBe("SyntaxError: import() is not available in run_code (line 2, column 27)");
    expect(result.stdout).toBe("");
  });

  test("a thrown error is reported with its message and line; output before it is kept", async () => {
    const result = await run(`console.log("before");\n\nthrow new TypeError("boom");`);
    expect(result.error).toBe("TypeError: boom (line 3)");
    expect(result.stdout).toBe("before\n");
    expect(result.timedOut).toBe(false);
  });

  test("throwing a non-error value is reported too", async () => {
    expect((await run(`throw { code: 7 }`)).error).toBe('Uncaught {"code":7}');
  });

  test("a rejection nobody handles is reported on stderr", async () => {
    const result = await run(
      `Promise.reject(new Error("later"));\nawait new Promise((r) => setTimeout(r, 20));\nreturn 1`,
    );
    expect(result.result).toBe(1);
    expect(result.stderr).toContain("Uncaught (in promise) Error: later");
  });

  test("an error thrown in a timer callback is reported on stderr", async () => {
    const result = await run(
      `setTimeout(() => { throw new RangeError("in timer"); }, 0);\nawait new Promise((r) => setTimeout(r, 20));\n"done"`,
    );
    expect(result.result).toBe("done");
    expect(result.stderr).toBe("Uncaught RangeError: in timer (line 1)\n");
  });

  test("every run gets a fresh isolate: globals do not leak between runs", async () => {
    await run(`globalThis.leak = "from run 1"; Date.now = () => 0;`);
    const result = await run(`[typeof globalThis.leak, Date.now() > 0]`);
    expect(result.result).toEqual(["undefined", true]);
  });

  test("eval and new Function are unavailable, so no unguarded code can be built", async () => {
    const result = await run(`new Function("while (true) {}")()`);
    expect(result.error).toMatch(/^EvalError: Code generation from strings disallowed/);
  });

  test("the isolate has the standard Workers APIs, not Node's compatibility globals", async () => {
    const result = await run(
      `[typeof Buffer, typeof process, typeof TextEncoder, typeof crypto.subtle, typeof structuredClone, btoa("hi")]`,
    );
    expect(result.result).toEqual(["undefined", "undefined", "function", "object", "function", "aGk="]);
  });
});

describe("run_code files", () => {
  test("files written by the code are in the sandbox, and sandbox files are readable", async () => {
    const fs = new InMemoryFs();
    await fs.mkdir("/workspace", { recursive: true });
    await fs.writeFile("/workspace/input.txt", "3\n4\n");
    const result = await run(
      `const text = await files.readFile("input.txt");
       const sum = text.trim().split("\\n").map(Number).reduce((a, b) => a + b, 0);
       await files.writeFile("/workspace/out/sum.txt", String(sum));
       return { sum, listed: await files.listFiles() };`,
      options(fs),
    );
    expect(result.error).toBeUndefined();
    expect(result.result).toEqual({ sum: 7, listed: ["input.txt", "out"] });
    expect(await fs.readFile("/workspace/out/sum.txt")).toBe("7");
    // ... and the next run sees them.
    expect((await run(`await files.readFile("out/sum.txt")`, options(fs))).result).toBe("7");
  });

  test("a missing file is a clear error the code can catch", async () => {
    const result = await run(
      `try { await files.readFile("nope.txt"); } catch (e) { console.log("caught:", e.message); }
       await files.readFile("../../etc/passwd");`,
    );
    expect(result.stdout).toBe("caught: file not found: /workspace/nope.txt\n");
    expect(result.error).toMatch(/file not found: \/etc\/passwd/);
  });
});

import { describe, expect, it } from "vitest";
import { callTool } from "../../src/sandbox/tools/registry.ts";
import { testToolContext } from "../helpers/tool-context.ts";

describe("bash", () => {
  it("passes the command through and returns stdout then stderr", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => ({ stdout: "out\n", stderr: "warn\n", exitCode: 0, truncated: false });
    expect(await callTool("bash", { command: "echo out; echo warn >&2", timeout_ms: 5000 }, ctx)).toEqual({
      text: "out\nwarn\n",
      exitCode: 0,
      truncated: false,
    });
    expect(ctx.bash.calls).toEqual([{ command: "echo out; echo warn >&2", timeout_ms: 5000 }]);
  });

  it("states a non-zero exit in the text and the outcome, without is_error", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => ({ stdout: "", stderr: "ls: x: No such file", exitCode: 2, truncated: false });
    expect(await callTool("bash", { command: "ls x" }, ctx)).toEqual({
      text: "ls: x: No such file\nexit code: 2",
      exitCode: 2,
      truncated: false,
    });
  });

  it("says (no output) rather than sending an empty text block", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => ({ stdout: "", stderr: "", exitCode: 0, truncated: false });
    expect((await callTool("bash", { command: "true" }, ctx)).text).toBe("(no output)");
  });

  it("restarts without a command", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => ({ stdout: "", stderr: "", exitCode: 0, truncated: false });
    expect((await callTool("bash", { restart: true }, ctx)).text).toBe("shell restarted");
    expect(ctx.bash.calls).toEqual([{ command: "", restart: true }]);
  });

  it("marks a timeout or a limit as is_error with its kind, keeping the output so far", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => ({
      stdout: "partial\n",
      stderr: "",
      exitCode: 124,
      truncated: false,
      failure: { kind: "timeout", message: "command timed out after 1000 ms" },
    });
    expect(await callTool("bash", { command: "sleep 9" }, ctx)).toEqual({
      text: "partial\ncommand timed out after 1000 ms",
      isError: true,
      errorKind: "timeout",
      truncated: false,
    });
    ctx.bash.respond = () => ({
      stdout: "",
      stderr: "",
      exitCode: 1,
      truncated: false,
      failure: { kind: "limit", message: "stopped: too many loop iterations (limit 100000)" },
    });
    expect(await callTool("bash", { command: "while true; do :; done" }, ctx)).toEqual({
      text: "stopped: too many loop iterations (limit 100000)",
      isError: true,
      errorKind: "limit",
      truncated: false,
    });
  });

  it("caps combined output at 100 KiB and still states the exit code", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => ({
      stdout: "a".repeat(80 * 1024),
      stderr: "b".repeat(40 * 1024),
      exitCode: 3,
      truncated: false,
    });
    const out = await callTool("bash", { command: "noisy" }, ctx);
    expect(out.truncated).toBe(true);
    expect(out.exitCode).toBe(3);
    expect(out.text.endsWith("\n[output truncated: 120.0 KiB total, showing first 100 KiB]\nexit code: 3")).toBe(true);
    expect(out.text.startsWith("a".repeat(80 * 1024))).toBe(true);
  });

  it("keeps the session's own cut and markers intact", async () => {
    const ctx = testToolContext();
    const stdout = `${"a".repeat(100 * 1024 - 100)}\n[output truncated: 1 MiB total, showing first 100 KiB]\n`;
    const stderr = "b".repeat(100);
    ctx.bash.respond = () => ({ stdout, stderr, exitCode: 1, truncated: true });
    expect(await callTool("bash", { command: "x" }, ctx)).toEqual({
      text: `${stdout}${stderr}\nexit code: 1`,
      exitCode: 1,
      truncated: true,
    });
  });

  it("names invalid fields and does not run anything", async () => {
    const ctx = testToolContext();
    expect((await callTool("bash", {}, ctx)).text).toBe(
      "invalid input for bash: command: required unless restart is true",
    );
    expect((await callTool("bash", { command: "  " }, ctx)).text).toBe(
      "invalid input for bash: command: must not be empty",
    );
    expect((await callTool("bash", { command: ["ls"] }, ctx)).text).toBe(
      "invalid input for bash: command: expected string, received array",
    );
    expect((await callTool("bash", { command: "ls", timeout_ms: -1 }, ctx)).text).toBe(
      "invalid input for bash: timeout_ms: too small: expected number to be >0",
    );
    expect((await callTool("bash", { command: "ls", restart: "yes" }, ctx)).errorKind).toBe("invalid_input");
    expect(ctx.bash.calls).toEqual([]);
  });

  it("turns a shell that throws into an is_error result", async () => {
    const ctx = testToolContext();
    ctx.bash.respond = () => {
      throw new Error("storage went away");
    };
    expect(await callTool("bash", { command: "ls" }, ctx)).toEqual({
      text: "bash failed: storage went away",
      isError: true,
      errorKind: "internal",
    });
  });
});

describe("run_code", () => {
  it("runs JavaScript and reports console output and the result", async () => {
    const ctx = testToolContext(
      {},
      { stdout: "hi\n", stderr: "", result: { n: 2 }, timedOut: false, networkRefused: [] },
    );
    expect(await callTool("run_code", { code: "console.log('hi'); return {n: 2}" }, ctx)).toEqual({
      text: 'hi\nresult: {"n":2}',
      exitCode: 0,
      truncated: false,
    });
    expect(ctx.runCodeCalls).toEqual([{ code: "console.log('hi'); return {n: 2}", language: "javascript" }]);
  });

  it("reports a thrown error and refused requests as output, not as a failure to run", async () => {
    const ctx = testToolContext(
      {},
      {
        stdout: "",
        stderr: "",
        error: "Error: network request to https://example.com/ refused",
        timedOut: false,
        networkRefused: ["https://example.com/"],
      },
    );
    expect(
      await callTool("run_code", { code: "await fetch('https://example.com/')", language: "javascript" }, ctx),
    ).toEqual({
      text:
        "network refused (not in the sandbox's network.allow list): https://example.com/\n" +
        "error: Error: network request to https://example.com/ refused",
      exitCode: 1,
      truncated: false,
    });
  });

  it("marks a timeout as is_error", async () => {
    const ctx = testToolContext(
      {},
      { stdout: "", stderr: "", error: "run_code timed out after 100 ms", timedOut: true },
    );
    expect(await callTool("run_code", { code: "for(;;){}", timeout_ms: 100 }, ctx)).toEqual({
      text: "run_code timed out after 100 ms",
      isError: true,
      errorKind: "timeout",
      truncated: false,
    });
  });

  it("refuses other languages and missing code", async () => {
    const ctx = testToolContext();
    expect((await callTool("run_code", { code: "print(1)", language: "python" }, ctx)).text).toBe(
      'invalid input for run_code: language: expected "javascript"',
    );
    expect((await callTool("run_code", {}, ctx)).text).toBe("invalid input for run_code: code: required");
    expect(ctx.runCodeCalls).toEqual([]);
  });

  it("says when the sandbox has no isolate loader", async () => {
    const { runCode: _absent, ...ctx } = testToolContext();
    expect(await callTool("run_code", { code: "1" }, ctx)).toEqual({
      text: "run_code is not available in this sandbox",
      isError: true,
      errorKind: "internal",
    });
  });
});

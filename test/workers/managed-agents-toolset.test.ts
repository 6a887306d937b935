import { beforeAll, describe, expect, test } from "vitest";
import { bashTimeoutMs } from "../../src/managed-agents/toolset/bash.ts";
import {
  isReadOnlyToolsetTool,
  TOOLSET_TOOL_NAMES,
  type ToolsetCallOutcome,
} from "../../src/managed-agents/toolset/run-toolset-call.ts";
import {
  ADMIN,
  bash,
  type Created,
  call,
  createSandbox,
  runTool,
  sandboxStub,
  textOf,
  warmUp,
} from "./sandbox-helpers.ts";

// The toolset against the real Sandbox Durable Object, through its `toolsetCall` RPC on the stub a
// session runner holds (env.SANDBOX).

beforeAll(warmUp, 60_000);

const admin = { kind: "admin" } as const;
type Stub = ReturnType<typeof sandboxStub>;

interface Opened {
  sandbox: Created;
  target: Stub;
}

async function open(): Promise<Opened> {
  const sandbox = await createSandbox();
  return { sandbox, target: sandboxStub(sandbox.id) };
}

let nextId = 0;
const toolUseId = () => `sevt_${++nextId}_${crypto.randomUUID().slice(0, 8)}`;

/** One toolsetCall as the runner makes it: the RPC's answer, unwrapped only by the caller. */
function toolset(
  target: Stub,
  name: string,
  input: unknown,
  options?: { extraRoots?: string[] },
  id = toolUseId(),
): Promise<{ ok: true; value: ToolsetCallOutcome } | { ok: false; error: { code: string; message: string } }> {
  return target.toolsetCall(admin, { id, name, input }, options);
}

/** Runs one toolset call that must be owned; its text and error flag. */
async function use(
  target: Stub,
  name: string,
  input: unknown,
  options?: { extraRoots?: string[] },
): Promise<{ text: string; isError: boolean }> {
  const answer = await toolset(target, name, input, options);
  if (!answer.ok) throw new Error(`${name} failed: ${answer.error.message}`);
  const outcome = answer.value;
  if (!outcome.owned) throw new Error(`${name} was not owned`);
  expect(outcome.result.content).toHaveLength(1);
  expect(outcome.result.content[0]!.type).toBe("text");
  return { text: outcome.result.content[0]!.text, isError: outcome.result.is_error };
}

/** A file's bytes as the sandbox holds them (its files API), or null when it does not exist. */
async function held(sandbox: Created, path: string): Promise<string | null> {
  const res = await call(`/v1/sandboxes/${sandbox.id}/files${path}`, sandbox.token);
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return textOf(res);
}

/** Everything under /workspace, with sizes: proof that a refused call changed nothing. */
async function listing(sandbox: Created): Promise<string> {
  const out = await bash(
    sandbox,
    'find /workspace | sort | while read -r p; do echo "$p $(wc -c < "$p" 2>/dev/null)"; done',
  );
  return out.text;
}

interface TraceRow {
  tool_use_id: string;
  tool: string;
  duration_ms: number;
  bytes: number;
  error: string | null;
}

/** What operators see of the sandbox in `GET /admin/sandboxes/ID`. */
async function adminView(sandbox: Created): Promise<{ busy: number; trace: TraceRow[] }> {
  const res = await call(`/admin/sandboxes/${sandbox.id}`, ADMIN);
  expect(res.status).toBe(200);
  return (await res.json()) as { busy: number; trace: TraceRow[] };
}

/** Polls `check` until it holds (a generous bound: the condition, not a timer, decides). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("ownership", () => {
  test("names outside the toolset are not owned, and nothing runs for them", async () => {
    const { sandbox, target } = await open();
    const before = await listing(sandbox);
    for (const name of ["web_fetch", "str_replace_based_edit_tool", "run_code", "Bash", "toString", "__proto__"]) {
      expect(await toolset(target, name, { command: "touch /workspace/x" })).toEqual({
        ok: true,
        value: { owned: false },
      });
    }
    expect(await listing(sandbox)).toBe(before);
  });
});

describe("write, read, edit", () => {
  test("write creates parents and says how many bytes; read gives the text back unnumbered", async () => {
    const { sandbox, target } = await open();
    const content = "héllo\nsecond line\n";
    expect(await use(target, "write", { file_path: "deep/dir/a.txt", content })).toEqual({
      text: "wrote 19 bytes to deep/dir/a.txt",
      isError: false,
    });
    expect(await held(sandbox, "/workspace/deep/dir/a.txt")).toBe(content);
    expect(await use(target, "read", { file_path: "deep/dir/a.txt" })).toEqual({ text: content, isError: false });
    expect(await use(target, "read", { file_path: "/workspace/deep/dir/a.txt" })).toEqual({
      text: content,
      isError: false,
    });
    // Overwrite replaces the whole file.
    expect((await use(target, "write", { file_path: "deep/dir/a.txt", content: "x" })).text).toBe(
      "wrote 1 bytes to deep/dir/a.txt",
    );
    expect(await held(sandbox, "/workspace/deep/dir/a.txt")).toBe("x");
  });

  test("read: view_range is 1-indexed and inclusive, an end of 0 or less reads to the end", async () => {
    const { target } = await open();
    await use(target, "write", { file_path: "lines.txt", content: "l1\nl2\nl3\nl4\n" });
    const read = async (view_range: number[]) =>
      (await use(target, "read", { file_path: "lines.txt", view_range })).text;
    expect(await read([2, 3])).toBe("l2\nl3");
    expect(await read([3, 0])).toBe("l3\nl4\n");
    expect(await read([3, -1])).toBe("l3\nl4\n");
    expect(await read([1, 1])).toBe("l1");
    // Past the end: nothing, which the runner posts as (no output).
    expect(await read([9, 12])).toBe("(no output)");
  });

  test("read: an empty file is (no output); a missing file, a directory and a file over 256 KiB are errors", async () => {
    const { sandbox, target } = await open();
    await use(target, "write", { file_path: "empty.txt", content: "" });
    expect(await use(target, "read", { file_path: "empty.txt" })).toEqual({ text: "(no output)", isError: false });
    expect(await use(target, "read", { file_path: "nope.txt" })).toEqual({
      text: "read: nope.txt: no such file or directory",
      isError: true,
    });
    await bash(sandbox, "mkdir -p adir");
    expect(await use(target, "read", { file_path: "adir" })).toEqual({
      text: "read: adir is not a regular file",
      isError: true,
    });
    await use(target, "write", { file_path: "big.txt", content: "a".repeat(256 * 1024 + 1) });
    expect(await use(target, "read", { file_path: "big.txt" })).toEqual({
      text: "read: big.txt is 262145 bytes, exceeds 262144-byte limit. Use bash (head/tail/sed) to read a slice.",
      isError: true,
    });
    // Exactly at the cap is read whole.
    await use(target, "write", { file_path: "cap.txt", content: "b".repeat(256 * 1024) });
    expect((await use(target, "read", { file_path: "cap.txt" })).text).toHaveLength(256 * 1024);
  });

  test("edit: a unique match is replaced literally; the file holds the result", async () => {
    const { sandbox, target } = await open();
    await use(target, "write", { file_path: "e.txt", content: "alpha beta\ngamma\n" });
    expect(await use(target, "edit", { file_path: "e.txt", old_string: "beta", new_string: "$& $1 B" })).toEqual({
      text: "edited e.txt (1 replacement(s))",
      isError: false,
    });
    expect(await held(sandbox, "/workspace/e.txt")).toBe("alpha $& $1 B\ngamma\n");
    expect((await use(target, "read", { file_path: "e.txt" })).text).toBe("alpha $& $1 B\ngamma\n");
  });

  test("edit: replace_all replaces every match and counts them; without it several matches are refused", async () => {
    const { sandbox, target } = await open();
    await use(target, "write", { file_path: "r.txt", content: "x-x-x" });
    expect(await use(target, "edit", { file_path: "r.txt", old_string: "x", new_string: "y" })).toEqual({
      text: "edit: old_string appears 3 times in r.txt (must be unique)",
      isError: true,
    });
    expect(await held(sandbox, "/workspace/r.txt")).toBe("x-x-x");
    expect(
      await use(target, "edit", { file_path: "r.txt", old_string: "x", new_string: "yy", replace_all: true }),
    ).toEqual({ text: "edited r.txt (3 replacement(s))", isError: false });
    expect(await held(sandbox, "/workspace/r.txt")).toBe("yy-yy-yy");
  });

  test("edit: no match, a missing file and a file over 256 KiB are errors and change nothing", async () => {
    const { sandbox, target } = await open();
    await use(target, "write", { file_path: "n.txt", content: "abc" });
    expect(await use(target, "edit", { file_path: "n.txt", old_string: "zzz", new_string: "y" })).toEqual({
      text: "edit: old_string not found in n.txt",
      isError: true,
    });
    expect(await use(target, "edit", { file_path: "gone.txt", old_string: "a", new_string: "b" })).toEqual({
      text: "edit: gone.txt: no such file or directory",
      isError: true,
    });
    expect(await held(sandbox, "/workspace/gone.txt")).toBeNull();
    const big = `${"a".repeat(256 * 1024)}TAIL`;
    await use(target, "write", { file_path: "big.txt", content: big });
    expect(await use(target, "edit", { file_path: "big.txt", old_string: "TAIL", new_string: "x" })).toEqual({
      text: "edit: big.txt is 262148 bytes, exceeds 262144-byte limit. Use bash (sed/awk) to edit a large file.",
      isError: true,
    });
    expect(await held(sandbox, "/workspace/n.txt")).toBe("abc");
    expect(await held(sandbox, "/workspace/big.txt")).toBe(big);
  });

  test("write onto a directory and below a file are errors", async () => {
    const { sandbox, target } = await open();
    await bash(sandbox, "mkdir -p d && echo f > f");
    expect(await use(target, "write", { file_path: "d", content: "x" })).toEqual({
      text: "write: d: is a directory",
      isError: true,
    });
    expect(await use(target, "write", { file_path: "f/x.txt", content: "x" })).toEqual({
      text: "write: f/x.txt: not a directory",
      isError: true,
    });
    expect(await held(sandbox, "/workspace/f")).toBe("f\n");
  });
});

describe("quota", () => {
  test("a write past the sandbox's quota is an error and leaves the file as it was", async () => {
    const sandbox = await createSandbox({ quota_bytes: 8192 });
    const target = sandboxStub(sandbox.id);
    expect((await use(target, "write", { file_path: "q.txt", content: "small" })).isError).toBe(false);
    const refused = await use(target, "write", { file_path: "q.txt", content: "z".repeat(20_000) });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^write: q\.txt: .*quota/i);
    expect(await held(sandbox, "/workspace/q.txt")).toBe("small");
    const edit = await use(target, "edit", { file_path: "q.txt", old_string: "small", new_string: "y".repeat(20_000) });
    expect(edit.isError).toBe(true);
    expect(edit.text).toMatch(/^edit: q\.txt: .*quota/i);
    expect(await held(sandbox, "/workspace/q.txt")).toBe("small");
  });
});

describe("paths outside the workdir", () => {
  test("absolute, .. and symlinked paths that leave /workspace are refused and touch nothing", async () => {
    const { sandbox, target } = await open();
    await bash(sandbox, "mkdir -p /etc && echo secret > /etc/secret && ln -s /etc /workspace/link");
    const before = await listing(sandbox);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["read", { file_path: "/etc/secret" }, "/etc/secret"],
      ["read", { file_path: "../etc/secret" }, "../etc/secret"],
      ["read", { file_path: "link/secret" }, "link/secret"],
      ["write", { file_path: "../x.txt", content: "x" }, "../x.txt"],
      ["write", { file_path: "link/new.txt", content: "x" }, "link/new.txt"],
      ["edit", { file_path: "link/secret", old_string: "secret", new_string: "x" }, "link/secret"],
      ["glob", { pattern: "*", path: "/etc" }, "/etc"],
      ["grep", { pattern: "secret", path: "link" }, "link"],
    ];
    for (const [name, input, shown] of cases) {
      expect(await use(target, name, input)).toEqual({
        text: `${name}: path ${JSON.stringify(shown)} is outside the workdir /workspace`,
        isError: true,
      });
    }
    expect(await listing(sandbox)).toBe(before);
    expect(await held(sandbox, "/etc/secret")).toBe("secret\n");
    expect(await held(sandbox, "/x.txt")).toBeNull();
    expect(await held(sandbox, "/etc/new.txt")).toBeNull();
  });
});

describe("paths inside the workdir", () => {
  test("a symlink that stays inside /workspace is followed; absolute paths inside it are accepted", async () => {
    const { sandbox, target } = await open();
    await bash(sandbox, "mkdir -p real && echo inside > real/f.txt && ln -s /workspace/real alias");
    expect(await use(target, "read", { file_path: "alias/f.txt" })).toEqual({ text: "inside\n", isError: false });
    expect(await use(target, "write", { file_path: "alias/new/g.txt", content: "g" })).toEqual({
      text: "wrote 1 bytes to alias/new/g.txt",
      isError: false,
    });
    expect(await held(sandbox, "/workspace/real/new/g.txt")).toBe("g");
    expect((await use(target, "read", { file_path: "/workspace/real/../real/new/g.txt" })).text).toBe("g");
  });
});

describe("glob", () => {
  test("newest mtime first, files only, .git and node_modules skipped, no matches", async () => {
    const { sandbox, target } = await open();
    // mtimes set explicitly, so the order does not depend on how fast the writes ran.
    const setup = await bash(
      sandbox,
      [
        "mkdir -p src/sub .git node_modules/pkg dir.ts",
        "echo > src/old.ts && touch -d '2020-01-01 00:00:00' src/old.ts",
        "echo > src/sub/mid.ts && touch -d '2022-01-01 00:00:00' src/sub/mid.ts",
        "echo > top.ts && touch -d '2024-01-01 00:00:00' top.ts",
        "echo > .git/h.ts && echo > node_modules/pkg/i.ts && echo > notes.md",
      ].join(" && "),
    );
    expect(setup.isError).toBe(false);
    expect(await use(target, "glob", { pattern: "**/*.ts" })).toEqual({
      text: "/workspace/top.ts\n/workspace/src/sub/mid.ts\n/workspace/src/old.ts",
      isError: false,
    });
    expect((await use(target, "glob", { pattern: "*.ts" })).text).toBe("/workspace/top.ts");
    expect((await use(target, "glob", { pattern: "*.ts", path: "src" })).text).toBe("/workspace/src/old.ts");
    expect(await use(target, "glob", { pattern: "**/*.rs" })).toEqual({ text: "no matches", isError: false });
    // A later write is the newest.
    await use(target, "write", { file_path: "src/old.ts", content: "new" });
    expect((await use(target, "glob", { pattern: "**/*.ts" })).text.split("\n")[0]).toBe("/workspace/src/old.ts");
  });

  test("at most 200 paths, the newest ones, from a listing larger than the sandbox's answer cap", async () => {
    const { sandbox, target } = await open();
    // 250 files with 200-character names (the listing is far past one sandbox answer) and the 400
    // files of `other/`. mtimes are set with `touch -d @N`, and a touch that failed would fail the
    // setup (`|| exit 1`): files left at their creation times can share a millisecond, and a tie
    // goes to the name (f50 before f51), not to the intended order.
    const long = "x".repeat(190);
    const setup = await bash(
      sandbox,
      `mkdir -p many other && for i in $(seq 1 250); do echo > many/f$i-${long}.txt && ` +
        `touch -d @$((1600000000 + i)) many/f$i-${long}.txt || exit 1; done && ` +
        `for i in $(seq 1 400); do echo > other/o$i-${long}.md; done`,
    );
    expect(setup.isError).toBe(false);
    const paths = (await use(target, "glob", { pattern: "many/*.txt" })).text.split("\n");
    expect(paths).toHaveLength(200);
    paths.forEach((path, i) => {
      expect(path).toBe(`/workspace/many/f${250 - i}-${long}.txt`);
    });
  });

  test("touch -d @N sets the mtime glob sorts by; equal mtimes go in path order", async () => {
    const { sandbox, target } = await open();
    // Names whose order differs between the storage's index (UTF-8 bytes: U+FF01 before U+1F600)
    // and JavaScript's comparison (UTF-16 code units: U+1F600's high surrogate 0xD83D first): the
    // tie-break is the answer's own, whatever order the rows come in.
    const setup = await bash(
      sandbox,
      "echo > b.txt && echo > a.txt && echo > c.txt && echo > \uFF01.txt && echo > \u{1F600}.txt && " +
        "touch -d @1600000000 a.txt b.txt && touch -d @1500000000 c.txt && " +
        "touch -d @1400000000 \uFF01.txt \u{1F600}.txt",
    );
    expect(setup.isError).toBe(false);
    const listed = await target.listFiles(admin, "/workspace");
    expect(listed.ok && listed.value.find((f) => f.path === "/workspace/a.txt")?.mtimeMs).toBe(1_600_000_000_000);
    // a and b tie: a first, although b was written first; c is older; the two oldest tie.
    for (let i = 0; i < 3; i++) {
      expect((await use(target, "glob", { pattern: "*.txt" })).text).toBe(
        ["a.txt", "b.txt", "c.txt", "\u{1F600}.txt", "\uFF01.txt"].map((name) => `/workspace/${name}`).join("\n"),
      );
    }
  });

  test("absolute patterns, .. in the pattern and a path that is not a directory are refused", async () => {
    const { sandbox, target } = await open();
    await bash(sandbox, "echo > a.txt");
    expect(await use(target, "glob", { pattern: "/workspace/*.txt" })).toEqual({
      text: "glob: absolute pattern not permitted",
      isError: true,
    });
    expect(await use(target, "glob", { pattern: "../*" })).toEqual({
      text: 'glob: ".." is not permitted in the pattern',
      isError: true,
    });
    expect(await use(target, "glob", { pattern: "*", path: "a.txt" })).toEqual({
      text: "glob: a.txt: not a directory",
      isError: true,
    });
  });
});

describe("grep", () => {
  test("path:line:text, long lines skipped, .git and node_modules skipped, no matches", async () => {
    const { sandbox, target } = await open();
    await use(target, "write", { file_path: "a.txt", content: "one needle\ntwo\nneedle three\n" });
    await use(target, "write", { file_path: "sub/b.txt", content: `x\n${"n".repeat(2001)} needle\n` });
    await use(target, "write", { file_path: "sub/c.txt", content: `${"n".repeat(1993)} needle\n` });
    await bash(sandbox, "mkdir -p .git node_modules && echo needle > .git/x && echo needle > node_modules/y");
    expect(await use(target, "grep", { pattern: "needle" })).toEqual({
      text: [
        "/workspace/a.txt:1:one needle",
        "/workspace/a.txt:3:needle three",
        `/workspace/sub/c.txt:1:${"n".repeat(1993)} needle`,
      ].join("\n"),
      isError: false,
    });
    expect((await use(target, "grep", { pattern: "ne+dle", path: "a.txt" })).text).toBe(
      "/workspace/a.txt:1:one needle\n/workspace/a.txt:3:needle three",
    );
    expect(await use(target, "grep", { pattern: "absent" })).toEqual({ text: "no matches", isError: false });
    expect(await use(target, "grep", { pattern: "x", path: "nowhere" })).toEqual({
      text: "grep: nowhere: no such file or directory",
      isError: true,
    });
  });

  test("output is capped at 100 KiB with the reference's marker", async () => {
    const { target } = await open();
    const line = `match ${"z".repeat(94)}`; // 100 characters
    await use(target, "write", { file_path: "many.txt", content: `${line}\n`.repeat(2000) });
    const { text, isError } = await use(target, "grep", { pattern: "match" });
    expect(isError).toBe(false);
    const lines = text.split("\n");
    expect(lines.at(-1)).toBe("[output truncated at 102400 bytes]");
    const shown = lines.slice(0, -1);
    expect(shown[0]).toBe(`/workspace/many.txt:1:${line}`);
    expect(new TextEncoder().encode(shown.join("\n")).byteLength).toBeLessThanOrEqual(100 * 1024);
    shown.forEach((entry, i) => {
      expect(entry).toBe(`/workspace/many.txt:${i + 1}:${line}`);
    });
  });
});

describe("bash", () => {
  test("output with stderr merged, trailing newlines and ANSI stripped; state persists; $? starts at 0", async () => {
    const { target } = await open();
    // The sandbox's shell gathers the command's stdout and its stderr separately: stderr comes after.
    expect(
      await use(target, "bash", { command: "echo out; echo err >&2; printf '\\033[31mred\\033[0m\\n\\n\\n'" }),
    ).toEqual({ text: "out\nred\n\n\nerr", isError: false });
    expect(await use(target, "bash", { command: "printf '\\033[1;32mok\\033[0m\\n\\n'" })).toEqual({
      text: "ok",
      isError: false,
    });
    // As after the reference's own framing, a command starts with $? = 0 whatever ran before.
    await use(target, "bash", { command: "false" });
    expect(await use(target, "bash", { command: "echo $?" })).toEqual({ text: "0", isError: false });
    expect(await use(target, "bash", { command: "mkdir -p p && cd p && export V=7" })).toEqual({
      text: "(no output)",
      isError: false,
    });
    expect(await use(target, "bash", { command: 'pwd; echo "$V"' })).toEqual({
      text: "/workspace/p\n7",
      isError: false,
    });
    // stdin is empty: a command that reads it ends at once.
    expect(await use(target, "bash", { command: "cat; echo done" })).toEqual({ text: "done", isError: false });
  });

  test("a non-zero exit is is_error with the output, or `exit N` when there is none", async () => {
    const { target } = await open();
    expect(await use(target, "bash", { command: "echo failing >&2; exit 3" })).toEqual({
      text: "failing",
      isError: true,
    });
    expect(await use(target, "bash", { command: "false" })).toEqual({ text: "exit 1", isError: true });
    expect(await use(target, "bash", { command: "true" })).toEqual({ text: "(no output)", isError: false });
    // A syntax error never runs the command: the shell's complaint is the result.
    const broken = await use(target, "bash", { command: "if then fi (" });
    expect(broken.isError).toBe(true);
    expect(broken.text).toMatch(/syntax error/i);
  });

  test("output is the command's own: lines like the sandbox's notes stay, 80 KiB whole, output before exit", async () => {
    const { target } = await open();
    // Lines that look like the sandbox's own trailers stay: they are the command's output.
    expect(await use(target, "bash", { command: "echo 'exit code: 7'; echo 'note: kept'" })).toEqual({
      text: "exit code: 7\nnote: kept",
      isError: false,
    });
    // Under the 100 KiB cap: whole, no marker.
    const big = await use(target, "bash", { command: "printf '%081920d' 0" });
    expect(big).toEqual({ text: "0".repeat(81920), isError: false });
    // `exit` ends the script: the output before it is the answer.
    expect(await use(target, "bash", { command: "echo done; exit 0" })).toEqual({ text: "done", isError: false });
  });

  test("output over 100 KiB keeps its last 100 KiB after the [output truncated] line", async () => {
    const { target } = await open();
    const { text, isError } = await use(target, "bash", {
      command: "seq 1 30000 | sed 's/^/line /'",
    });
    expect(isError).toBe(false);
    expect(text.startsWith("[output truncated]\n")).toBe(true);
    expect(text.endsWith("line 29999\nline 30000")).toBe(true);
    const body = text.slice("[output truncated]\n".length);
    expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(100 * 1024);
    // The kept part is whole lines of the real output, in order.
    const kept = body.split("\n").slice(1);
    const first = Number(kept[0]!.slice(5));
    kept.forEach((l, i) => {
      expect(l).toBe(`line ${first + i}`);
    });
  });

  test("the kept tail of multibyte output starts on a whole character", async () => {
    const { target } = await open();
    const { text, isError } = await use(target, "bash", { command: "seq 1 20000 | sed 's/^/é😀 /'" });
    expect(isError).toBe(false);
    expect(text.startsWith("[output truncated]\n")).toBe(true);
    const body = text.slice("[output truncated]\n".length);
    expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(100 * 1024);
    expect(new TextEncoder().encode(body).byteLength).toBeGreaterThan(100 * 1024 - 4);
    // No half of a surrogate pair or of a UTF-8 sequence at the cut.
    expect(body.includes("\uFFFD")).toBe(false);
    expect(/^[\uDC00-\uDFFF]/.test(body)).toBe(false);
    expect(body.endsWith("é😀 19999\né😀 20000")).toBe(true);
  });

  test("a timeout is an error, restarts the shell, and the next call starts fresh", async () => {
    const { target } = await open();
    await use(target, "bash", { command: "mkdir -p w && cd w && export KEEP=1" });
    expect(await use(target, "bash", { command: "echo before; sleep 30", timeout_ms: 200 })).toEqual({
      text:
        "bash: bash command timed out after 200ms; the shell was restarted (working directory, variables and " +
        "functions reset)",
      isError: true,
    });
    expect(await use(target, "bash", { command: 'pwd; echo "[$KEEP]"' })).toEqual({
      text: "/workspace\n[]",
      isError: false,
    });
  });

  test("restart alone answers `bash session restarted`; with a command it runs in a fresh shell", async () => {
    const { target } = await open();
    await use(target, "bash", { command: "cd /tmp && export GONE=1" });
    expect(await use(target, "bash", { restart: true })).toEqual({ text: "bash session restarted", isError: false });
    expect(await use(target, "bash", { command: 'pwd; echo "[$GONE]"' })).toEqual({
      text: "/workspace\n[]",
      isError: false,
    });
    await use(target, "bash", { command: "cd /tmp" });
    expect(await use(target, "bash", { command: "pwd", restart: true })).toEqual({
      text: "/workspace",
      isError: false,
    });
  });

  test("timeout_ms is capped at the runner's 120 s; 120 s when absent", () => {
    expect(bashTimeoutMs(undefined)).toBe(120_000);
    expect(bashTimeoutMs(600_000)).toBe(120_000);
    expect(bashTimeoutMs(200)).toBe(200);
  });
});

describe("bad input", () => {
  test("every tool answers invalid input with is_error naming the field, and nothing changes", async () => {
    const { sandbox, target } = await open();
    await use(target, "write", { file_path: "keep.txt", content: "kept" });
    const before = await listing(sandbox);
    const cases: Array<[string, unknown, string]> = [
      ["bash", {}, "bash: command is required"],
      ["bash", { command: "" }, "bash: command is required"],
      ["bash", { command: 5 }, "bash: invalid input: command: expected string, received number"],
      [
        "bash",
        { command: "touch x", timeout_ms: 0 },
        "bash: invalid input: timeout_ms: too small: expected number to be >0",
      ],
      [
        "bash",
        { command: "touch x", timeout_ms: 1.5 },
        "bash: invalid input: timeout_ms: expected int, received number",
      ],
      [
        "bash",
        { command: "touch x", restart: "yes" },
        "bash: invalid input: restart: expected boolean, received string",
      ],
      ["read", {}, "read: invalid input: file_path: required"],
      ["read", { file_path: "" }, "read: invalid input: file_path: file_path is required"],
      [
        "read",
        { file_path: "keep.txt", view_range: [1] },
        "read: invalid input: view_range: view_range must be [start_line, end_line]",
      ],
      ["write", { file_path: "new.txt" }, "write: invalid input: content: required"],
      ["write", { content: "x" }, "write: invalid input: file_path: required"],
      [
        "edit",
        { file_path: "keep.txt", old_string: "", new_string: "x" },
        "edit: invalid input: old_string: old_string is required",
      ],
      ["edit", { file_path: "keep.txt", old_string: "kept" }, "edit: invalid input: new_string: required"],
      ["glob", {}, "glob: invalid input: pattern: required"],
      ["grep", { pattern: "(a)\\1" }, "grep: invalid input: pattern: "],
      ["grep", { pattern: "[" }, "grep: invalid input: pattern: "],
      ["read", "not an object", "read: invalid input: (input): expected object, received string"],
    ];
    for (const [name, input, message] of cases) {
      const result = await use(target, name, input);
      expect(result.isError, `${name} ${JSON.stringify(input)}`).toBe(true);
      expect(result.text.startsWith(message), `${result.text} should start with ${message}`).toBe(true);
    }
    expect(await listing(sandbox)).toBe(before);
    expect(await held(sandbox, "/workspace/keep.txt")).toBe("kept");
  });
});

describe("names for the runner", () => {
  test("TOOLSET_TOOL_NAMES lists the six tools; read, glob and grep are the read-only ones", () => {
    expect([...TOOLSET_TOOL_NAMES].sort()).toEqual(["bash", "edit", "glob", "grep", "read", "write"]);
    expect(TOOLSET_TOOL_NAMES.filter(isReadOnlyToolsetTool).sort()).toEqual(["glob", "grep", "read"]);
    for (const name of ["web_fetch", "toString", "__proto__", "Read"]) expect(isReadOnlyToolsetTool(name)).toBe(false);
  });
});

describe("the sandbox's trace", () => {
  test("toolset calls appear in /admin/sandboxes/ID with tool, id, size and error text", async () => {
    const { sandbox, target } = await open();
    const ok = toolUseId();
    const failed = toolUseId();
    const answer = await toolset(target, "write", { file_path: "t.txt", content: "12345" }, undefined, ok);
    expect(answer).toEqual({
      ok: true,
      value: { owned: true, result: { content: [{ type: "text", text: "wrote 5 bytes to t.txt" }], is_error: false } },
    });
    await toolset(target, "read", { file_path: "/etc/passwd" }, undefined, failed);
    // Not owned: not run, so not traced.
    const foreign = toolUseId();
    await toolset(target, "web_fetch", { url: "http://x" }, undefined, foreign);
    const view = await adminView(sandbox);
    const rows = new Map(view.trace.map((row) => [row.tool_use_id, row]));
    expect(rows.get(ok)).toMatchObject({ tool: "write", bytes: "wrote 5 bytes to t.txt".length, error: null });
    expect(rows.get(ok)!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(rows.get(failed)).toMatchObject({
      tool: "read",
      error: 'read: path "/etc/passwd" is outside the workdir /workspace',
    });
    expect(rows.has(foreign)).toBe(false);
    expect(view.busy).toBe(0);
  });
});

describe("abortToolCall", () => {
  test("stops a running loop of sleeps at once; the sandbox goes on with the next call", async () => {
    const { sandbox, target } = await open();
    const id = toolUseId();
    const running = toolset(
      target,
      "bash",
      {
        command: "touch started; while true; do echo tick >> ticks; sleep 0.05; done; touch finished",
      },
      undefined,
      id,
    );
    await until("the loop to run", async () => (await held(sandbox, "/workspace/ticks")) !== null);
    expect(await target.abortToolCall(admin, id)).toEqual({ ok: true, value: true });
    const answer = await running;
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.error).toMatchObject({ code: "conflict", message: `toolset call ${id} was aborted` });
    // The loop stopped: the queue moves on (a loop still running would hold this call back), and
    // the ticks stop growing.
    expect(await use(target, "bash", { command: "echo after" })).toEqual({ text: "after", isError: false });
    const ticks = await held(sandbox, "/workspace/ticks");
    expect(await use(target, "bash", { command: "sleep 0.3; echo slept" })).toEqual({ text: "slept", isError: false });
    expect(await held(sandbox, "/workspace/ticks")).toBe(ticks);
    expect(await held(sandbox, "/workspace/finished")).toBeNull();
    // Traced as aborted.
    expect((await adminView(sandbox)).trace.find((row) => row.tool_use_id === id)?.error).toBe("bash: aborted");
    // Aborting it again, or an id never seen: nothing to abort.
    expect(await target.abortToolCall(admin, id)).toEqual({ ok: true, value: false });
    expect(await target.abortToolCall(admin, "sevt_unknown")).toEqual({ ok: true, value: false });
  });

  test("a queued call answers at once and never runs; a running sleep stops", async () => {
    const { sandbox, target } = await open();
    const first = toolUseId();
    const queued = toolUseId();
    const running = toolset(target, "bash", { command: "touch started; sleep 100; touch finished" }, undefined, first);
    await until("the sleep to start", async () => (await held(sandbox, "/workspace/started")) !== null);
    const waiting = toolset(target, "write", { file_path: "queued.txt", content: "x" }, undefined, queued);
    await until("the write to be queued", async () => (await adminView(sandbox)).busy === 2);
    expect(await target.abortToolCall(admin, queued)).toEqual({ ok: true, value: true });
    const answer = await waiting;
    expect(answer).toMatchObject({
      ok: false,
      error: { code: "conflict", message: `toolset call ${queued} was aborted` },
    });
    // The first call is still running: the queued one answered without waiting for it.
    expect((await adminView(sandbox)).busy).toBeGreaterThanOrEqual(1);
    expect(await target.abortToolCall(admin, first)).toEqual({ ok: true, value: true });
    expect((await running).ok).toBe(false);
    await until("the queue to drain", async () => (await adminView(sandbox)).busy === 0);
    expect(await held(sandbox, "/workspace/queued.txt")).toBeNull();
    expect(await held(sandbox, "/workspace/finished")).toBeNull();
    const trace = (await adminView(sandbox)).trace;
    expect(trace.find((row) => row.tool_use_id === queued)?.error).toBe("write: aborted before it ran");
  });

  test("a sandbox destroyed under a running call ends it: the call answers not_found at once", async () => {
    const { sandbox, target } = await open();
    const id = toolUseId();
    const running = toolset(target, "bash", { command: "touch started; sleep 100" }, undefined, id);
    await until("the sleep to start", async () => (await held(sandbox, "/workspace/started")) !== null);
    expect(await target.destroy(admin)).toEqual({ ok: true, value: undefined });
    expect(await running).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await target.abortToolCall(admin, id)).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await toolset(target, "read", { file_path: "x" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    // Nothing was left running: the same id created again has an idle queue (a sleep still going
    // would hold it busy for 100 s).
    const again = await createSandbox({ id: sandbox.id });
    await until("the queue to be idle", async () => (await adminView(again)).busy === 0);
    expect(await held(again, "/workspace/started")).toBeNull();
  });

  test("a second call with an id already in flight is refused; bad call shapes are refused", async () => {
    const { sandbox, target } = await open();
    const id = toolUseId();
    const running = toolset(target, "bash", { command: "touch started; sleep 100" }, undefined, id);
    await until("the sleep to start", async () => (await held(sandbox, "/workspace/started")) !== null);
    expect(await toolset(target, "bash", { command: "touch twice" }, undefined, id)).toMatchObject({
      ok: false,
      error: { code: "conflict", message: `toolset call ${id} is already queued or running` },
    });
    expect(await target.abortToolCall(admin, id)).toEqual({ ok: true, value: true });
    await running;
    expect(await held(sandbox, "/workspace/twice")).toBeNull();
    const bad = await target.toolsetCall(admin, { name: "read", input: {} } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: "bad_request" } });
    if (!bad.ok) expect(bad.error.message).toContain("id");
    for (const extraRoots of [["relative/dir"], ["/"], ["/mnt/../etc"]]) {
      expect(await toolset(target, "read", { file_path: "x" }, { extraRoots })).toMatchObject({
        ok: false,
        error: { code: "bad_request" },
      });
    }
  });
});

describe("extraRoots (memory-store mounts)", () => {
  test("paths in /mnt/memory/x are allowed with the root, refused without; /etc stays refused", async () => {
    const { sandbox, target } = await open();
    const setup = await bash(
      sandbox,
      "mkdir -p /mnt/memory/x /mnt/memory/xy /etc && echo note > /mnt/memory/x/a.md && echo s > /etc/s && " +
        "echo other > /mnt/memory/xy/b.md",
    );
    expect(setup.isError).toBe(false);
    const mounts = { extraRoots: ["/mnt/memory/x"] };
    expect(await use(target, "read", { file_path: "/mnt/memory/x/a.md" }, mounts)).toEqual({
      text: "note\n",
      isError: false,
    });
    expect(await use(target, "write", { file_path: "/mnt/memory/x/new/b.md", content: "b" }, mounts)).toEqual({
      text: "wrote 1 bytes to /mnt/memory/x/new/b.md",
      isError: false,
    });
    expect(await held(sandbox, "/mnt/memory/x/new/b.md")).toBe("b");
    expect(
      (await use(target, "glob", { pattern: "**/*.md", path: "/mnt/memory/x" }, mounts)).text.split("\n").sort(),
    ).toEqual(["/mnt/memory/x/a.md", "/mnt/memory/x/new/b.md"]);
    expect((await use(target, "grep", { pattern: "note", path: "/mnt/memory/x" }, mounts)).text).toBe(
      "/mnt/memory/x/a.md:1:note",
    );
    const refusal = (name: string, path: string) =>
      `${name}: path ${JSON.stringify(path)} is outside the workdir /workspace and the memory mounts /mnt/memory/x`;
    expect(await use(target, "read", { file_path: "/etc/s" }, mounts)).toEqual({
      text: refusal("read", "/etc/s"),
      isError: true,
    });
    // A sibling whose name starts the same is not inside the mount.
    expect(await use(target, "read", { file_path: "/mnt/memory/xy/b.md" }, mounts)).toEqual({
      text: refusal("read", "/mnt/memory/xy/b.md"),
      isError: true,
    });
    expect(await use(target, "write", { file_path: "/mnt/memory/x/../../../etc/s", content: "z" }, mounts)).toEqual({
      text: refusal("write", "/mnt/memory/x/../../../etc/s"),
      isError: true,
    });
    // Without the root the mount is outside.
    expect(await use(target, "read", { file_path: "/mnt/memory/x/a.md" })).toEqual({
      text: 'read: path "/mnt/memory/x/a.md" is outside the workdir /workspace',
      isError: true,
    });
    expect(await held(sandbox, "/etc/s")).toBe("s\n");
  });

  test("a symlink in the mount or the workdir that leads out, dangling or not, is refused and creates nothing", async () => {
    const { sandbox, target } = await open();
    const setup = await bash(
      sandbox,
      "mkdir -p /mnt/memory/x /etc && echo s > /etc/s && ln -s /etc /mnt/memory/x/out && " +
        "ln -s /etc/created-through-link /workspace/dangling && ln -s ../../etc/s /workspace/rel",
    );
    expect(setup.isError).toBe(false);
    const mounts = { extraRoots: ["/mnt/memory/x"] };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["read", { file_path: "/mnt/memory/x/out/s" }, "/mnt/memory/x/out/s"],
      ["write", { file_path: "dangling", content: "x" }, "dangling"],
      ["edit", { file_path: "rel", old_string: "s", new_string: "t" }, "rel"],
      ["read", { file_path: "rel" }, "rel"],
    ];
    for (const [name, input, shown] of cases) {
      const result = await use(target, name, input, mounts);
      expect(result.isError).toBe(true);
      expect(result.text.startsWith(`${name}: path ${JSON.stringify(shown)} is outside the workdir`)).toBe(true);
    }
    expect(await held(sandbox, "/etc/created-through-link")).toBeNull();
    expect(await held(sandbox, "/etc/s")).toBe("s\n");
  });
});

describe("listFiles", () => {
  test("regular files below the root with sizes and mtimes; directories and symlinks left out", async () => {
    const { sandbox, target } = await open();
    const setup = await bash(
      sandbox,
      "mkdir -p /mnt/memory/m/sub/deeper /mnt/memory/m/empty && printf abc > /mnt/memory/m/a.md && " +
        "printf 12345 > /mnt/memory/m/sub/deeper/b.md && touch -d @1700000000 /mnt/memory/m/a.md && " +
        "ln -s /etc /mnt/memory/m/link && echo outside > /mnt/memory/other.md",
    );
    expect(setup.isError).toBe(false);
    const answer = await target.listFiles(admin, "/mnt/memory/m");
    if (!answer.ok) throw new Error(answer.error.message);
    const files = [...answer.value].sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ["/mnt/memory/m/a.md", 3],
      ["/mnt/memory/m/sub/deeper/b.md", 5],
    ]);
    expect(files[0]!.mtimeMs).toBe(1_700_000_000_000);
    expect(files[1]!.mtimeMs).toBeGreaterThan(1_700_000_000_000);
  });

  test("a missing root has no files; a file or a relative path is refused; past 10,000 files it refuses", async () => {
    const { sandbox, target } = await open();
    await bash(sandbox, "echo > /workspace/f");
    expect(await target.listFiles(admin, "/nowhere")).toEqual({ ok: true, value: [] });
    expect(await target.listFiles(admin, "/workspace/f")).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(await target.listFiles(admin, "workspace")).toMatchObject({ ok: false, error: { code: "bad_request" } });
    const setup = await runTool(sandbox, "bash", {
      command: "mkdir -p big && cd big && for i in $(seq 1 10000); do : > f$i; done",
      timeout_ms: 120_000,
    });
    expect(setup.isError).toBe(false);
    const full = await target.listFiles(admin, "/workspace/big");
    expect(full.ok && full.value.length).toBe(10_000);
    await bash(sandbox, ": > big/one-more");
    const refused = await target.listFiles(admin, "/workspace/big");
    expect(refused).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    if (!refused.ok) expect(refused.error.message).toContain("more than 10000 files under /workspace/big");
  }, 120_000);
});

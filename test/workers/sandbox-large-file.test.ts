import { beforeAll, describe, expect, test } from "vitest";
import { largeFile, RARE_TEXT } from "../fixtures/large-file.ts";
import { bash, type Created, call, createSandbox, runTool, uniqueId, warmUp } from "./sandbox-helpers.ts";

// A 300 MiB file in a sandbox (quota raised to hold it), written through the files API: every tool
// and the shell's head, tail and wc answer by reading parts of it, or refuse clearly; the sandbox
// keeps working after each call.
const FILE = largeFile((300 * 1024 * 1024) / 100, 2_000_000); // 300 MiB of 100-byte lines
const PATH = "/workspace/big.txt";
const numbered = (n: number, text: string) => `${String(n).padStart(6, " ")}\t${text}`;

let sandbox: Created;

beforeAll(async () => {
  await warmUp();
  sandbox = await createSandbox({
    id: uniqueId("large"),
    quota_bytes: 512 * 1024 * 1024,
    files: { "small.txt": "still here\n" },
  });
  const put = await call(`/v1/sandboxes/${sandbox.id}/files${PATH}`, sandbox.token, {
    method: "PUT",
    body: FILE.stream(),
    duplex: "half",
  });
  expect(put.status).toBe(201);
  expect(((await put.json()) as { bytes: number }).bytes).toBe(FILE.bytes);
}, 600_000);

/** The sandbox answers the next call with its files intact. */
async function stillWorks(): Promise<void> {
  expect((await bash(sandbox, "cat small.txt")).text).toBe("still here\n");
}

describe("a 300 MiB file", () => {
  test("read: first lines, a middle range and the end, each from a part of the file", async () => {
    expect(FILE.bytes).toBe(300 * 1024 * 1024);
    const head = await runTool(sandbox, "read", { file_path: PATH, view_range: [1, 3] });
    expect(head.text).toBe([1, 2, 3].map((n) => numbered(n, FILE.line(n))).join("\n"));
    const middle = await runTool(sandbox, "read", { file_path: PATH, view_range: [1_500_000, 1_500_001] });
    expect(middle.text).toBe([1_500_000, 1_500_001].map((n) => numbered(n, FILE.line(n))).join("\n"));
    const end = await runTool(sandbox, "read", { file_path: PATH, view_range: [FILE.lines - 1, -1] });
    expect(end.text).toBe([FILE.lines - 1, FILE.lines].map((n) => numbered(n, FILE.line(n))).join("\n"));
    const whole = await runTool(sandbox, "read", { file_path: PATH });
    expect(whole.isError).toBe(false);
    expect(whole.text).toMatch(
      new RegExp(`showing lines 1-\\d+ of ${FILE.lines}; use view_range \\[\\d+, -1\\] to read on\\]$`),
    );
    const past = await runTool(sandbox, "read", { file_path: PATH, view_range: [FILE.lines + 1, -1] });
    expect(past).toMatchObject({ isError: true });
    expect(past.text).toContain(`[1, ${FILE.lines}]`);
    await stillWorks();
  }, 300_000);

  test("grep finds the one rare line", async () => {
    const found = await runTool(sandbox, "grep", { pattern: RARE_TEXT, path: PATH });
    expect(found.text).toBe(`${PATH}:${FILE.rareLine}:${FILE.line(FILE.rareLine)}`);
    await stillWorks();
  }, 300_000);

  test("text editor view of the end, and edits near the end rewrite it in place", async () => {
    const target = FILE.lines - 3;
    const view = await runTool(sandbox, "str_replace_based_edit_tool", {
      command: "view",
      path: PATH,
      view_range: [target, target],
    });
    expect(view.text).toBe(
      `Here's the result of running \`cat -n\` on ${PATH}:\n${numbered(target, FILE.line(target))}`,
    );

    const edited = await runTool(sandbox, "edit", {
      file_path: PATH,
      old_string: FILE.line(target),
      new_string: "EDITED NEAR THE END\nwith a second line",
    });
    expect(edited.isError).toBe(false);
    expect(edited.text).toContain(numbered(target, "EDITED NEAR THE END"));
    expect(edited.text).toContain(numbered(target + 1, "with a second line"));
    expect(edited.text).toContain(numbered(target + 2, FILE.line(target + 1)));

    const replaced = await runTool(sandbox, "str_replace_based_edit_tool", {
      command: "str_replace",
      path: PATH,
      old_str: "with a second line",
      new_str: "and a shorter one",
    });
    expect(replaced.isError).toBe(false);
    const inserted = await runTool(sandbox, "str_replace_based_edit_tool", {
      command: "insert",
      path: PATH,
      insert_line: 2,
      insert_text: "inserted near the start",
    });
    expect(inserted.isError).toBe(false);

    const after = await runTool(sandbox, "read", { file_path: PATH, view_range: [target + 1, target + 3] });
    expect(after.text).toBe(
      [
        numbered(target + 1, "EDITED NEAR THE END"),
        numbered(target + 2, "and a shorter one"),
        numbered(target + 3, FILE.line(target + 1)),
      ].join("\n"),
    );
    const start = await runTool(sandbox, "read", { file_path: PATH, view_range: [2, 4] });
    expect(start.text).toBe(
      [numbered(2, FILE.line(2)), numbered(3, "inserted near the start"), numbered(4, FILE.line(3))].join("\n"),
    );

    const notUnique = await runTool(sandbox, "edit", { file_path: PATH, old_string: "line 1", new_string: "x" });
    expect(notUnique).toMatchObject({ isError: true });
    expect(notUnique.text).toContain("old_string is not unique");
    await stillWorks();
  }, 300_000);

  test("bash: wc -l, head and tail answer; whole-file reads are refused with what to use instead", async () => {
    const lines = FILE.lines + 2; // the edits above added two lines
    expect((await bash(sandbox, "wc -l big.txt")).text).toBe(`${lines} big.txt\n`);
    expect((await bash(sandbox, "head -n 2 big.txt")).text).toBe(`${FILE.line(1)}\n${FILE.line(2)}\n`);
    expect((await bash(sandbox, "tail -n 1 big.txt")).text).toBe(`${FILE.line(FILE.lines)}\n`);
    expect((await bash(sandbox, "tail -c 11 big.txt")).text).toBe(`${FILE.line(FILE.lines).slice(-10)}\n`);

    const cat = await bash(sandbox, "cat big.txt");
    expect(cat.isError).toBe(false);
    expect(cat.text).toMatch(/^cat: big\.txt: file too large to load whole \(300\.0 MiB; the limit is 16 MiB\)/);
    expect(cat.text).toContain("head, tail, sed -n");
    expect(cat.text).toMatch(/exit code: 1$/);
    const grep = await bash(sandbox, `grep ${RARE_TEXT} big.txt`);
    expect(grep.text).toMatch(/^grep: big\.txt: file too large to load whole \(300\.0 MiB; the limit is 16 MiB\)/);
    const sed = await bash(sandbox, "sed -n '1500000,1500001p' big.txt");
    expect(sed.text).toBe(`${FILE.line(1_499_999)}\n${FILE.line(1_500_000)}\n`); // one line was inserted above
    const sort = await bash(sandbox, "sort big.txt | head -n 1");
    expect(sort.text).toContain("sort: big.txt: file too large to load whole");
    const tooMuch = await bash(sandbox, "head -n 1000000 big.txt");
    expect(tooMuch.text).toContain("head: output would pass 16 MiB on a file this large");
    await stillWorks();
  }, 300_000);
});

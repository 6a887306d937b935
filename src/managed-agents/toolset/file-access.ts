/**
 * Opening and writing files for read, write and edit, with the reference runner's refusals: its
 * wording for a missing path, a directory, a path below a file, and its 256 KiB cap on what read
 * and edit load.
 */
import { readAll } from "./file-bytes.ts";
import { confirmInWorkdir, lexicalInWorkdir } from "./paths.ts";
import { ToolsetError } from "./result.ts";
import type { ToolsetSandbox } from "./sandbox-target.ts";

/** The reference's cap on the files read and edit load whole. */
export const MAX_FILE_BYTES = 256 * 1024;

const decoder = new TextDecoder();

/**
 * A regular file's text and its real path. `shown` is the path as the agent gave it (the
 * reference's messages name it that way); `hint` says how to handle a file over the cap.
 *
 * The file is opened while its path is checked, not after: the sandbox follows symlinks when it
 * opens a file, so what it opens is the file at the real path, and a path that turns out to lead
 * outside the workdir is refused before anything of it is read.
 */
export async function loadTextFile(
  sandbox: ToolsetSandbox,
  tool: string,
  shown: string,
  hint: string,
): Promise<{ path: string; text: string }> {
  const lexical = lexicalInWorkdir(tool, shown);
  const [checked, file] = await Promise.all([
    confirmInWorkdir(sandbox, tool, shown, lexical).then(
      (path) => ({ ok: true as const, path }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    sandbox.openFile(lexical),
  ]);
  if (!checked.ok) {
    if (file.ok) await file.body.cancel();
    throw checked.error;
  }
  if (!file.ok) throw fileError(tool, shown, file.error);
  if (file.size > MAX_FILE_BYTES) {
    await file.body.cancel();
    throw new ToolsetError(tool, `${shown} is ${file.size} bytes, exceeds ${MAX_FILE_BYTES}-byte limit. ${hint}`);
  }
  return { path: checked.path, text: decoder.decode(await readAll(file.body)) };
}

/**
 * Writes the file through the sandbox's own write tool (parents created, the content replaced in
 * one transaction, the call in the sandbox's queue and trace); answers its size in UTF-8 bytes.
 */
export async function storeTextFile(
  sandbox: ToolsetSandbox,
  tool: string,
  path: string,
  shown: string,
  text: string,
): Promise<number> {
  const written = await sandbox.runTool("write", { file_path: path, content: text });
  if (written.isError) throw fileError(tool, shown, { code: written.errorKind, message: written.text });
  return new TextEncoder().encode(text).byteLength;
}

/** The sandbox's refusal in the reference's words (`P: no such file or directory`, …). */
function fileError(tool: string, shown: string, error: { code: string | undefined; message: string }): ToolsetError {
  if (error.code === "not_found") return new ToolsetError(tool, `${shown}: no such file or directory`);
  if (/is a directory|EISDIR/i.test(error.message)) {
    // The reference says "not a regular file" where it stats first (read, edit) and EISDIR where it writes.
    return new ToolsetError(tool, tool === "write" ? `${shown}: is a directory` : `${shown} is not a regular file`);
  }
  if (/not a directory|ENOTDIR|is a file/i.test(error.message)) {
    return new ToolsetError(tool, `${shown}: not a directory`);
  }
  // Anything else (the sandbox's quota, …) keeps the sandbox's own words, without the sandbox's path form.
  return new ToolsetError(tool, `${shown}: ${error.message.replace(/^write failed: /, "")}`);
}

/**
 * Helpers for sandbox tests inside workerd: requests go through the edge's real routes
 * (`exports.default.fetch`), with the admin token the vitest config binds.
 */
import { env, exports } from "cloudflare:workers";
import { type Created, type EdgeCall, sandboxApi, withBearer } from "../helpers/sandbox-api.ts";

export type { Created, ToolResultJson } from "../helpers/sandbox-api.ts";

export const ADMIN = "test-admin-token";

export const call: EdgeCall = (path, token, init = {}) =>
  exports.default.fetch(`http://edge${path}`, { ...init, headers: withBearer(init, token) });

export const { create: createSandbox, toolCalls, bash, run: runTool } = sandboxApi(call, () => ADMIN);

/** The sandbox's Durable Object, for runInDurableObject and evictDurableObject. */
export function sandboxStub(id: string) {
  return env.SANDBOX.get(env.SANDBOX.idFromName(id));
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The first sandbox call loads the whole sandbox module graph (seconds, cold): pay it outside the tests. */
export async function warmUp(): Promise<void> {
  const sandbox: Created = await createSandbox();
  await bash(sandbox, "true");
}

/**
 * Starts a bash call answered as a stream (SSE or NDJSON) and returns once the call is running:
 * its `started` event has been read (`head` is the text read so far).
 */
export async function startStreamedBash(
  sandbox: Created,
  input: Record<string, unknown>,
  accept = "text/event-stream",
) {
  const response = await toolCalls(sandbox, { type: "tool_use", id: uniqueId("tu"), name: "bash", input }, accept);
  if (response.status !== 200) throw new Error(`tool-calls failed: ${response.status} ${await response.text()}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const head = await readUntil(reader, '"event":"started"');
  return { response, reader, head };
}

/** Reads a streamed answer until its text so far includes `marker`; fails if the stream ends first. */
export async function readUntil(reader: ReadableStreamDefaultReader<string>, marker: string): Promise<string> {
  let seen = "";
  while (!seen.includes(marker)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before ${JSON.stringify(marker)}: ${seen}`);
    seen += value;
  }
  return seen;
}

/** Reads a streamed answer to its end. */
export async function readRest(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return rest;
    rest += value;
  }
}

/** A file body as text (decoded from bytes: file responses are application/octet-stream). */
export async function textOf(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

/** 40 `a`s and a `!`: `(a+)+$` takes 2^40 steps on a backtracking engine. */
export const EVIL_LINE = `${"a".repeat(40)}!`;

/** A new sandbox holding /workspace/keep.txt ("kept") and /workspace/evil.txt (EVIL_LINE). */
export async function preparedSandbox(): Promise<Created> {
  const sandbox = await createSandbox();
  const setup = await bash(sandbox, `echo kept > keep.txt && printf '%s\\n' '${EVIL_LINE}' > evil.txt`);
  if (setup.isError) throw new Error(`setup failed: ${setup.text}`);
  return sandbox;
}

/** Fails unless the file preparedSandbox wrote is still there and the shell still answers. */
export async function expectKept(sandbox: Created): Promise<void> {
  const after = await bash(sandbox, "cat keep.txt");
  if (after.isError || after.text !== "kept\n") throw new Error(`keep.txt is not intact: ${JSON.stringify(after)}`);
}

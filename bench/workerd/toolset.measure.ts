/**
 * The Managed Agents toolset run inside the Sandbox Durable Object (`toolsetCall`) beside the same
 * work through the sandbox's own tool calls (`toolCalls`, JSON answer), both over the Durable
 * Object's RPC stub as a session runner calls them. The checks make sure the thing timed is the
 * thing meant; the numbers go to the bench table, never into assertions.
 */
import { env, exports } from "cloudflare:workers";
import { expect, test } from "vitest";
import { sandboxApi } from "../../test/helpers/sandbox-api.ts";
import { percentile, summarise, timed } from "./record.ts";

const RUNS = 200;
const admin = { kind: "admin" } as const;

const { create } = sandboxApi(
  (path, token, init = {}) =>
    exports.default.fetch(`http://edge${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }),
  () => "bench-admin-token",
);

test("toolset calls in the sandbox (toolsetCall) beside the sandbox's own tool calls (toolCalls, JSON)", async ({
  task,
}) => {
  const sandbox = await create({ files: { "/workspace/small.txt": "hello\nsmall file\n" } });
  const stub = env.SANDBOX.get(env.SANDBOX.idFromName(sandbox.id));
  let n = 0;
  const toolset = async (name: string, input: unknown) => {
    const answer = await stub.toolsetCall(admin, { id: `sevt_${++n}`, name, input });
    if (!answer.ok || !answer.value.owned) throw new Error(`toolsetCall ${name} failed`);
    return answer.value.result.content[0]?.text;
  };
  const toolCall = async (name: string, input: Record<string, unknown>) => {
    const answer = await stub.toolCalls(admin, [{ type: "tool_use", id: `tu_${++n}`, name, input }], "json");
    if (!answer.ok) throw new Error(`toolCalls ${name} failed`);
    const body = (await answer.value.json()) as { content: Array<{ content: Array<{ text: string }> }> };
    return body.content[0]?.content[0]?.text;
  };
  const cases = [
    {
      benchmark: "toolsetCall bash `echo hi`",
      run: async () => expect(await toolset("bash", { command: "echo hi" })).toBe("hi"),
    },
    {
      benchmark: "toolCalls (JSON) bash `echo hi`",
      run: async () => expect(await toolCall("bash", { command: "echo hi" })).toBe("hi\n"),
    },
    {
      benchmark: "toolsetCall read (18-byte file)",
      run: async () => expect(await toolset("read", { file_path: "small.txt" })).toBe("hello\nsmall file\n"),
    },
    {
      // What the earlier layer outside the object paid for the same read: a bash call resolving
      // the path's symlinks, then the file's bytes over getFile.
      benchmark: "outside the object: realpath via toolCalls + getFile",
      run: async () => {
        const script =
          'for p in /workspace/small.txt /workspace /; do if r=$(realpath -e "$p"); then echo $r; break; fi; done';
        expect(await toolCall("bash", { command: script })).toBe("/workspace/small.txt\n");
        const file = await stub.getFile(admin, "/workspace/small.txt");
        if (!file.ok) throw new Error("getFile failed");
        expect(await file.value.text()).toBe("hello\nsmall file\n");
      },
    },
    {
      benchmark: "toolCalls (JSON) read (18-byte file)",
      run: async () => expect(await toolCall("read", { file_path: "/workspace/small.txt" })).toContain("small file"),
    },
  ];
  for (const c of cases) for (let i = 0; i < 10; i++) await c.run(); // warm
  const samples = cases.map(() => [] as number[]);
  // Interleaved, so drift in the machine's load falls on every case alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [index, c] of cases.entries()) await timed(samples[index]!, c.run);
  }
  task.meta.benchRows = cases.map((c, index) => {
    const times = samples[index]!;
    const meanMs = Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 100) / 100;
    // workerd's clock moves in coarse steps: the mean over the batch says more than one sample.
    return { benchmark: c.benchmark, ...summarise(times), p95Ms: percentile(times, 0.95), meanMs };
  });
});

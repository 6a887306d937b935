import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { INSTANCE_FILE } from "../../src/gateway/executor/executor.ts";
import { WORKSPACE_RECREATED_NOTICE } from "../../src/gateway/executor/executor-tool-call.ts";
import {
  EXECUTOR_INSTANCE_HEADER,
  ExecutorAnnouncementSchema,
  type ExecutorErrorBody,
  type ExecutorSandboxInfo,
  executorPaths,
} from "../../src/protocol/executor-api.ts";
import { executorHarness, gone, type Harness, ndjson, outcomeOf } from "../helpers/executor-harness.ts";

const harnesses: Harness[] = [];
async function harness(config: Record<string, unknown> = {}, dir?: string): Promise<Harness> {
  const h = await executorHarness(config, dir);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.cleanup();
});

async function errorOf(res: Response): Promise<ExecutorErrorBody["error"]> {
  return ((await res.json()) as ExecutorErrorBody).error;
}

describe("executor identity", () => {
  it("announces itself, with an instance id kept in its directory across restarts", async () => {
    const dir = await fsp.mkdtemp(`${tmpdir()}/tether-xws-id-`);
    try {
      const first = await executorHarness({ maxSessions: 3 }, dir);
      const announcement = ExecutorAnnouncementSchema.parse(first.upstream.announcement);
      expect(announcement).toMatchObject({ name: "main", isolate: "none", network: "off", maxSessions: 3 });
      expect(first.upstream.name).toBe("executor:main");
      expect(first.upstream.kind).toBe("executor");
      await first.cleanup();
      expect(JSON.parse(await fsp.readFile(`${dir}/${INSTANCE_FILE}`, "utf8"))).toEqual({
        instance: announcement.instance,
      });
      const second = await executorHarness({}, dir);
      expect(second.upstream.announcement.instance).toBe(announcement.instance);
      await second.cleanup();
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a corrupt instance file clearly instead of taking a new identity", async () => {
    const dir = await fsp.mkdtemp(`${tmpdir()}/tether-xws-id-`);
    try {
      await fsp.writeFile(`${dir}/${INSTANCE_FILE}`, "{not json");
      await expect(executorHarness({}, dir)).rejects.toThrow(/is not JSON.*remove it to start a new instance/);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it("answers 409 to a request for another instance, and serves its own", async () => {
    const h = await harness();
    const wrong = await h.call("GET", executorPaths.sandbox("sb1"), {
      headers: { [EXECUTOR_INSTANCE_HEADER]: "other" },
    });
    expect(wrong.status).toBe(409);
    expect(await errorOf(wrong)).toMatchObject({ code: "conflict" });
    const right = await h.call("GET", executorPaths.sandbox("sb1"), {
      headers: { [EXECUTOR_INSTANCE_HEADER]: h.upstream.announcement.instance },
    });
    expect(right.status).toBe(200);
  });
});

describe("executor routes", () => {
  it("answers 404 to unknown routes, 405 to wrong methods, 400 to bad ids and bodies", async () => {
    const h = await harness();
    for (const path of [
      "/files/workspace/a",
      "/",
      "/sandboxes",
      "/sandboxes/sb1/nope",
      "/sandboxes/sb1/tools/read/x",
    ]) {
      const res = await h.call("GET", path);
      expect(res.status, path).toBe(404);
      expect((await errorOf(res)).code).toBe("not_found");
    }
    expect((await h.call("POST", executorPaths.sandbox("sb1"))).status).toBe(405);
    expect((await h.call("GET", executorPaths.tool("sb1", "read"))).status).toBe(405);
    const badId = await h.call("GET", executorPaths.sandbox(".hidden"));
    expect(badId.status).toBe(400);
    expect((await errorOf(badId)).message).toContain('invalid sandbox id ".hidden"');
    const slashId = await h.call("GET", executorPaths.sandbox("../etc"));
    expect(slashId.status).toBe(400);
    expect((await errorOf(slashId)).message).toBe('invalid path segment "../etc"');
    const longId = await h.call("GET", executorPaths.sandbox("a".repeat(65)));
    expect(longId.status).toBe(400);
    const notJson = await h.call("POST", executorPaths.tool("sb1", "read"), { body: "{" });
    expect(notJson.status).toBe(400);
    expect((await errorOf(notJson)).message).toBe("the tool call's body is not JSON");
    const badEnv = await h.call("POST", executorPaths.tool("sb1", "read"), {
      body: JSON.stringify({ input: {}, env: 3 }),
    });
    expect(badEnv.status).toBe(400);
    expect((await errorOf(badEnv)).message).toMatch(/^invalid tool call: env/);
    // Nothing was created for refused requests.
    expect((await fsp.readdir(h.dir)).sort()).toEqual([".tether-executor.json", ".tether-tmp"]);
  });

  it("runs file tools on the workspace, created on first use, and reports its size", async () => {
    const h = await harness();
    const before = (await (await h.call("GET", executorPaths.sandbox("sb1"))).json()) as ExecutorSandboxInfo;
    expect(before).toEqual({ exists: false, workspaceBytes: 0, instance: h.upstream.announcement.instance });
    const write = await h.tool("sb1", "write", { file_path: "notes/a.txt", content: "hello\n" });
    expect(write).toEqual([{ type: "outcome", outcome: { text: expect.stringContaining("/workspace/notes/a.txt") } }]);
    expect(await fsp.readFile(`${h.dir}/sb1/notes/a.txt`, "utf8")).toBe("hello\n");
    expect(outcomeOf(await h.tool("sb1", "read", { file_path: "/workspace/notes/a.txt" })).text).toBe("     1\thello");
    const unknown = outcomeOf(await h.tool("sb1", "nope", {}));
    expect(unknown).toMatchObject({ isError: true, errorKind: "unknown_tool" });
    const info = (await (await h.call("GET", executorPaths.sandbox("sb1"))).json()) as ExecutorSandboxInfo;
    expect(info).toMatchObject({ exists: true, workspaceBytes: 6 });
    expect(h.shells).toHaveLength(0); // file tools never open a shell
  });

  it("streams bash output lines before the outcome, with the sandbox's env, in the workspace", async () => {
    const h = await harness();
    const lines = await h.tool(
      "sb1",
      "bash",
      { command: 'echo "$GREETING from $(pwd)"; echo oops >&2' },
      { GREETING: "hi" },
    );
    expect(
      lines
        .filter((line) => line.type === "output")
        .map((line) => line.type === "output" && line.text)
        .join(""),
    ).toContain(`hi from ${await fsp.realpath(h.dir)}/sb1`);
    expect(lines.some((line) => line.type === "output" && line.stream === "stderr")).toBe(true);
    expect(outcomeOf(lines).text).toContain(`hi from`);
    expect(outcomeOf(lines).exitCode).toBe(0);
    expect(h.shells).toHaveLength(1);
    await h.tool("sb1", "bash", { command: "true" });
    expect(h.shells).toHaveLength(1); // one shell per sandbox, opened once
  });

  it("run_code runs through the injected runner for the sandbox's workspace, or says it is unavailable", async () => {
    const without = await harness();
    expect(outcomeOf(await without.tool("sb1", "run_code", { code: "1" }))).toMatchObject({
      isError: true,
      text: "run_code is not available in this sandbox",
    });
    const workspaces: string[] = [];
    const dir = await fsp.mkdtemp(`${tmpdir()}/tether-xws-rc-`);
    const h = await executorHarness({}, dir, (workspace) => {
      workspaces.push(workspace);
      return async (input) => ({
        stdout: `ran ${input.code}\n`,
        stderr: "",
        timedOut: false,
        networkRefused: [],
        durationMs: 1,
      });
    });
    try {
      expect(outcomeOf(await h.tool("sb1", "run_code", { code: "40 + 2" })).text).toContain("ran 40 + 2");
      expect(workspaces).toEqual([`${await fsp.realpath(dir)}/sb1`]);
    } finally {
      await h.cleanup();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it("aborting the request stops the running command", async () => {
    const h = await harness();
    const abort = new AbortController();
    const res = await h.call("POST", executorPaths.tool("sb1", "bash"), {
      body: JSON.stringify({ input: { command: "echo started; exec sleep 300" } }),
      signal: abort.signal,
    });
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("started");
    const pid = h.shells[0]?.pids[0] as number;
    abort.abort();
    let text = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      text += new TextDecoder().decode(chunk.value);
    expect(outcomeOf(ndjson(text)).exitCode).not.toBe(0);
    expect(await gone(pid)).toBe(true);
  });

  it("limits live shells to maxSessions; file tools still work; deleting one frees its place", async () => {
    const h = await harness({ maxSessions: 1 });
    expect(outcomeOf(await h.tool("sb1", "bash", { command: "echo one" })).text).toContain("one");
    const busy = await h.call("POST", executorPaths.tool("sb2", "bash"), {
      body: JSON.stringify({ input: { command: "echo two" } }),
    });
    expect(busy.status).toBe(503);
    const error = await errorOf(busy);
    expect(error.code).toBe("over_capacity");
    expect(error.message).toContain("busy: 1 sandboxes already have a live shell (its maxSessions)");
    expect(busy.headers.get("retry-after")).toBe("5");
    expect(outcomeOf(await h.tool("sb2", "write", { file_path: "f.txt", content: "x" })).isError).toBeUndefined();
    expect((await h.call("DELETE", executorPaths.sandbox("sb1"))).status).toBe(204);
    expect(outcomeOf(await h.tool("sb2", "bash", { command: "echo two" })).text).toContain("two");
  });

  it("deleting a sandbox stops its processes and removes its workspace", async () => {
    const h = await harness();
    const started = h.call("POST", executorPaths.tool("sb1", "bash"), {
      body: JSON.stringify({ input: { command: "echo up; exec sleep 300" } }),
    });
    const reader = (await started).body?.getReader();
    await reader?.read();
    const pid = h.shells[0]?.pids[0] as number;
    await h.tool("sb1", "write", { file_path: "a.txt", content: "x" });
    expect((await h.call("DELETE", executorPaths.sandbox("sb1"))).status).toBe(204);
    expect(h.shells[0]?.closed).toBe(true);
    expect(await gone(pid)).toBe(true);
    await expect(fsp.stat(`${h.dir}/sb1`)).rejects.toThrow(/ENOENT/);
    expect(((await (await h.call("GET", executorPaths.sandbox("sb1"))).json()) as ExecutorSandboxInfo).exists).toBe(
      false,
    );
    expect((await h.call("DELETE", executorPaths.sandbox("sb1"))).status).toBe(204); // idempotent
  });

  it("a workspace removed behind its back is recreated empty, the shell restarted, and the next result says so", async () => {
    const h = await harness();
    await h.tool("sb1", "bash", { command: "echo hi > a.txt" });
    await fsp.rm(`${h.dir}/sb1`, { recursive: true });
    const next = outcomeOf(await h.tool("sb1", "bash", { command: "ls -A | wc -l" }));
    expect(next.text.startsWith(WORKSPACE_RECREATED_NOTICE)).toBe(true);
    expect(next.text.slice(WORKSPACE_RECREATED_NOTICE.length).trim()).toBe("0");
    expect(h.shells[0]?.closed).toBe(true);
    expect(h.shells).toHaveLength(2);
    // Said once: the call after is ordinary.
    expect(outcomeOf(await h.tool("sb1", "bash", { command: "echo ok" })).text).toBe("ok\n");
  });

  it("a removal noticed by a files request is still told by the next tool call", async () => {
    const h = await harness();
    await h.tool("sb1", "bash", { command: "true" });
    await fsp.rm(`${h.dir}/sb1`, { recursive: true });
    expect((await h.call("PUT", executorPaths.file("sb1", "/workspace/a.txt"), { body: "a" })).status).toBe(200);
    expect(h.shells[0]?.closed).toBe(true);
    const next = outcomeOf(await h.tool("sb1", "read", { file_path: "a.txt" }));
    expect(next.text).toBe(`${WORKSPACE_RECREATED_NOTICE}     1\ta`);
  });

  it("concurrent first calls of one sandbox share one state and one shell, and none is told of a removal", async () => {
    const h = await harness();
    // Several sandboxes at once widen the window in which one call creates the workspace while
    // another registers the sandbox: neither is a removal behind the executor's back.
    const ids = ["sb1", "sb2", "sb3", "sb4"];
    const results = await Promise.all(
      ids.map((id) => Promise.all(Array.from({ length: 6 }, (_, i) => h.tool(id, "bash", { command: `echo ${i}` })))),
    );
    for (const perSandbox of results) {
      expect(perSandbox.map((lines) => outcomeOf(lines).text)).toEqual(Array.from({ length: 6 }, (_, i) => `${i}\n`));
    }
    expect(h.shells).toHaveLength(ids.length);
    await h.upstream.close();
    expect(h.shells[0]?.closed).toBe(true);
  });

  it("close() closes every shell and refuses later calls", async () => {
    const h = await harness();
    await h.tool("sb1", "bash", { command: "true" });
    await h.tool("sb2", "bash", { command: "true" });
    await h.upstream.close();
    expect(h.shells.map((shell) => shell.closed)).toEqual([true, true]);
    const after = await h.call("POST", executorPaths.tool("sb1", "read"), { body: JSON.stringify({ input: {} }) });
    expect(after.status).toBe(502);
    expect(await fsp.stat(`${h.dir}/sb1`)).toBeTruthy(); // workspaces stay
  });
});

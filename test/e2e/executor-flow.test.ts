/**
 * A sandbox on a gateway's executor, all real: the edge in workerd, `tether gateway --executor` as a
 * real process, real bash and git on this machine, the orchestrator client from src/client and the
 * official MCP SDK client on the sandbox's MCP face. Then the fault that matters most: the gateway
 * SIGKILLed mid-command answers the call promptly with is_error and leaves no process behind.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { descendantsNamed, rssMiB } from "../../bench/lib/memory.ts";
import { TetherClient, type ToolCallEvent } from "../../src/client/sandbox-client.ts";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { createTunnel, type TunnelTokens } from "../helpers/mcp-client.ts";
import { type RunningProcess, startGateway, stopAll } from "../helpers/processes.ts";

let edge: RunningEdge;
let tunnel: TunnelTokens;
let client: TetherClient;
let scratch: string;
const backend = { type: "gateway" as const, tunnel: "ops", executor: "main" };

function executorGateway(dir: string): Promise<RunningProcess> {
  return startGateway({
    edge: edge.url,
    token: tunnel.gatewayToken,
    servers: [],
    args: ["--executor", `main=${dir}`, "--allow-root", "--drain-timeout-ms", "1000"],
  });
}

/** PIDs of live processes whose arguments contain `marker` (read from /proc; nothing is killed). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "tether-executor-flow-"));
  edge = await startEdge();
  tunnel = await createTunnel(edge, "ops");
  client = new TetherClient({ edge: edge.url, token: edge.adminToken });
});

afterAll(async () => {
  await stopAll();
  await edge?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test("a coding session on the executor: git clone, edit, git diff, run_code, streamed build output, MCP face", async () => {
  const gateway = await executorGateway(join(scratch, "work"));
  try {
    // A local repository to clone, as a team's internal git server would be.
    const origin = join(scratch, "origin");
    execFileSync("bash", [
      "-c",
      `set -e; git init -q -b main ${origin}; cd ${origin}; printf 'export const answer = 41;\\n' > answer.js;
       git add answer.js; git -c user.email=dev@example.com -c user.name=dev commit -qm init`,
    ]);

    const sandbox = await client.createSandbox({ id: "exec-flow", backend });
    const run = async (name: string, input: Record<string, unknown>) => {
      const [result] = await sandbox.toolResults([{ type: "tool_use", id: `toolu_${name}`, name, input }]);
      const text = (result!.content as Array<{ text: string }>).map((c) => c.text).join("");
      return { text, isError: result!.is_error === true };
    };

    const clone = await run("bash", { command: `git clone -q ${origin} repo && cd repo && git log --oneline | wc -l` });
    expect(clone).toEqual({ text: "1\n", isError: false });
    // The shell is persistent: the cd above still holds.
    expect((await run("bash", { command: "pwd" })).text).toBe(`${join(scratch, "work", "exec-flow", "repo")}\n`);

    const edit = await run("edit", { file_path: "repo/answer.js", old_string: "41", new_string: "42" });
    expect(edit.isError).toBe(false);
    const diff = await run("bash", { command: "git diff" });
    expect(diff.text).toContain("-export const answer = 41;");
    expect(diff.text).toContain("+export const answer = 42;");

    const code = await run("run_code", {
      language: "javascript",
      code: "const fs = require('node:fs'); fs.writeFileSync('from-node.txt', 'written by node'); console.log(6 * 7);",
    });
    expect(code.isError).toBe(false);
    expect(code.text).toContain("42");
    expect(readFileSync(join(scratch, "work", "exec-flow", "from-node.txt"), "utf8")).toBe("written by node");

    // A build-like command: its lines arrive as output events while it runs, before the result.
    const events: ToolCallEvent[] = [];
    for await (const event of sandbox.runToolCalls({
      type: "tool_use",
      id: "toolu_build",
      name: "bash",
      input: { command: 'for i in 1 2 3 4; do echo "step $i"; sleep 0.3; done; echo built' },
    })) {
      events.push(event);
    }
    const outputs = events.filter((event) => event.event === "output");
    expect(outputs.length).toBeGreaterThanOrEqual(2);
    expect(events.findIndex((event) => event.event === "output")).toBeLessThan(
      events.findIndex((event) => event.event === "result"),
    );
    expect(outputs.map((event) => (event.event === "output" ? event.text : "")).join("")).toBe(
      "step 1\nstep 2\nstep 3\nstep 4\nbuilt\n",
    );

    // The same sandbox through its MCP face, with the official SDK client and the sandbox's token.
    const info = (await sandbox.info()) as { endpoints: { mcp: string } };
    const mcp = new Client({ name: "tether-e2e", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(info.endpoints.mcp), {
        requestInit: { headers: { authorization: `Bearer ${sandbox.token}` } },
      }),
    );
    try {
      const answer = await mcp.callTool({ name: "bash", arguments: { command: "git status --short" } });
      expect((answer.content as Array<{ text: string }>).map((c) => c.text).join("")).toBe(" M answer.js\n");
    } finally {
      await mcp.close();
    }

    await sandbox.destroy();
    expect(readdirSync(join(scratch, "work"))).not.toContain("exec-flow");
  } finally {
    await gateway.stop();
  }
});

test("the gateway SIGKILLed mid-command: the call ends promptly with is_error, and nothing it started survives", async () => {
  const gateway = await executorGateway(join(scratch, "killed"));
  const marker = `1000.${process.pid}${Date.now() % 100_000}`;
  const sandbox = await client.createSandbox({ id: "exec-killed", backend });
  const events: ToolCallEvent[] = [];
  let killed = false;
  for await (const event of sandbox.runToolCalls({
    type: "tool_use",
    id: "toolu_long",
    name: "bash",
    input: { command: `sleep ${marker} & nohup sleep ${marker} >/dev/null 2>&1 & echo started; sleep 300` },
  })) {
    events.push(event);
    if (!killed && event.event === "output" && event.text.includes("started")) {
      // The background jobs are forked before "started" is printed, but may not have exec'd sleep yet.
      expect(await waitUntil(() => processesWith(marker).length >= 2, 10_000)).toBe(true);
      killed = true;
      await gateway.stop("SIGKILL");
    }
  }
  expect(killed).toBe(true);
  const result = events.find((event) => event.event === "result");
  expect(result?.event === "result" && result.result.is_error).toBe(true);
  expect(result?.event === "result" && result.meta.error_kind).toBe("gateway_unavailable");
  expect(await waitUntil(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

test("ten sandboxes run commands at once on one executor, each in its own workspace and shell", async () => {
  const gateway = await executorGateway(join(scratch, "many"));
  try {
    const ids = Array.from({ length: 10 }, (_, i) => `exec-many-${i}`);
    const sandboxes = await Promise.all(ids.map((id) => client.createSandbox({ id, backend, env: { WHO: id } })));
    const answers = await Promise.all(
      sandboxes.map(async (sandbox) => {
        const [result] = await sandbox.toolResults([
          {
            type: "tool_use",
            id: "toolu_many",
            name: "bash",
            input: { command: 'echo "$WHO" > who.txt; sleep 0.5; cat who.txt' },
          },
        ]);
        return (result!.content as Array<{ text: string }>).map((c) => c.text).join("");
      }),
    );
    expect(answers.map((answer) => answer.split("\n")[0])).toEqual(ids);
    await Promise.all(sandboxes.map((sandbox) => sandbox.destroy()));
    expect(readdirSync(join(scratch, "many")).filter((name) => name.startsWith("exec-many-"))).toEqual([]);
  } finally {
    await gateway.stop();
  }
});

/** `total` bytes of a deterministic pattern, produced as they are read (never held whole). */
function patternStream(total: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 7) % 251);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const piece = chunk.subarray(0, Math.min(chunk.byteLength, total - sent));
      hash.update(piece);
      sent += piece.byteLength;
      controller.enqueue(piece.slice());
    },
  });
}

test("a 300 MiB file goes to the executor and back byte-identical, with bounded memory at the edge and in the gateway", async () => {
  const gateway = await executorGateway(join(scratch, "big"));
  try {
    const sandbox = await client.createSandbox({ id: "exec-big", backend });
    const [workerd] = descendantsNamed("workerd");
    const watched = [gateway.pid, ...(workerd === undefined ? [] : [workerd])];
    const before = watched.map(rssMiB);
    const peak = [...before];
    const sampler = setInterval(() => {
      watched.forEach((pid, i) => {
        peak[i] = Math.max(peak[i] ?? 0, rssMiB(pid));
      });
    }, 50);
    const totalMiB = 300;
    const total = totalMiB * 1024 * 1024;
    const sent = createHash("sha256");
    const url = `${edge.url}/v1/sandboxes/exec-big/files/workspace/big.bin`;
    const put = await fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${sandbox.token}` },
      body: patternStream(total, sent),
      duplex: "half",
    } as RequestInit);
    expect(put.status).toBeLessThan(300);
    const onDisk = readFileSync(join(scratch, "big", "exec-big", "big.bin"));
    expect(onDisk.byteLength).toBe(total);

    const got = await fetch(url, { headers: { authorization: `Bearer ${sandbox.token}` } });
    expect(got.status).toBe(200);
    const received = createHash("sha256");
    let bytes = 0;
    for await (const piece of got.body as unknown as AsyncIterable<Uint8Array>) {
      received.update(piece);
      bytes += piece.byteLength;
    }
    clearInterval(sampler);
    expect(bytes).toBe(total);
    expect(received.digest("hex")).toBe(sent.digest("hex"));
    // Holding the file whole anywhere would grow a process by its size at least. Streaming still grows
    // workerd by some garbage its collector has not reclaimed yet: measured here, 50 MiB moved in and
    // out left it under 100 MiB, 200 MiB +155 MiB and 400 MiB +177 MiB (it levels off), the gateway
    // +60 MiB whatever the size.
    const growth = peak.map((value, i) => value - (before[i] ?? 0));
    expect(
      growth.every((mib) => mib < totalMiB),
      `RSS growth MiB (gateway, edge): ${growth.join(", ")}`,
    ).toBe(true);
    await sandbox.destroy();
  } finally {
    await gateway.stop();
  }
});

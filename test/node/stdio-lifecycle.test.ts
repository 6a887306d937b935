/**
 * How the stdio adapter treats children that fail, die, idle or outnumber the cap, and that
 * nothing it started outlives it. Real processes throughout; every wait is bounded.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  EVERYTHING,
  everythingFixture,
  type Fixture,
  isAlive,
  NODE,
  startFixture,
  until,
  within,
} from "../helpers/stdio-fixtures.ts";

const ACCEPT = "application/json, text/event-stream";
const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
const TOOLS_LIST = { jsonrpc: "2.0", id: 5, method: "tools/list" };

/** One JSON-RPC message POSTed as a Streamable HTTP client would, without the SDK. */
function postRaw(url: string, message: unknown, sessionId?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: ACCEPT };
  if (sessionId !== undefined) headers["mcp-session-id"] = sessionId;
  return fetch(url, { method: "POST", headers, body: JSON.stringify(message) });
}

describe("stdio adapter: failures and lifecycle", { timeout: 60_000 }, () => {
  let fx: Fixture | undefined;
  const extraPids: number[] = [];
  afterEach(async () => {
    await fx?.stop();
    fx = undefined;
    for (const pid of extraPids.splice(0)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  });

  it("answers at once with a JSON-RPC error naming the server when the command does not exist", async () => {
    fx = await startFixture({ name: "ghost", command: "/nonexistent/tether-no-such-server" });
    const raw = await within(postRaw(fx.url, INITIALIZE), 10_000, "initialize");
    expect(raw.status).toBe(502);
    expect(await raw.json()).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      error: { code: -32011, message: expect.stringMatching(/stdio server 'ghost' could not start: .*ENOENT/) },
    });
    await expect(fx.connect()).rejects.toThrow(/stdio server 'ghost' could not start/);
    expect(fx.upstream.sessions()).toEqual([]);
  });

  it("answers at once when the command exits immediately, with its exit code and last stderr line", async () => {
    fx = await startFixture({
      name: "broken",
      command: NODE,
      args: ["-e", "console.error('starting'); console.error('missing configuration: API_KEY'); process.exit(3)"],
    });
    await expect(fx.connect()).rejects.toThrow(
      /stdio server 'broken' exited with code 3: missing configuration: API_KEY/,
    );
    expect(fx.logs).toContain("[broken] missing configuration: API_KEY");
    await until(() => fx?.upstream.sessions().length === 0, 5_000, "the session to go");
    expect(fx.pids().some(isAlive)).toBe(false);
  });

  it("answers the pending initialize when the child dies while initializing", async () => {
    fx = await startFixture({
      name: "fragile",
      command: NODE,
      args: [
        "-e",
        "process.stdin.once('data', () => { console.error('crashed while initializing'); process.exit(1); })",
      ],
    });
    await expect(fx.connect()).rejects.toThrow(/stdio server 'fragile' exited with code 1: crashed while initializing/);
    await until(() => fx?.upstream.sessions().length === 0, 5_000, "the session to go");
  });

  it("fails a call promptly when its child is killed mid-call; the session is then gone (404)", async () => {
    fx = await everythingFixture();
    const { client, sessionId } = await fx.connect();
    const pid = fx.upstream.sessions()[0]?.pid ?? 0;
    let killed = false;
    const call = client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 30, steps: 30 } },
      undefined,
      {
        onprogress: () => {
          if (killed) return;
          killed = true;
          process.kill(pid, "SIGKILL");
        },
      },
    );
    await expect(within(call, 15_000, "the interrupted call")).rejects.toThrow(
      /stdio server 'everything' was killed by SIGKILL/,
    );
    expect(isAlive(pid)).toBe(false);
    expect(fx.upstream.sessions()).toEqual([]);
    const after = await postRaw(fx.url, TOOLS_LIST, sessionId);
    expect(after.status).toBe(404);
    await after.body?.cancel();
  });

  it("reaps a session idle past the timeout, but not while a call runs longer than it", async () => {
    fx = await everythingFixture({ idleTimeoutMs: 600 });
    const { client, sessionId } = await fx.connect();
    const pid = fx.upstream.sessions()[0]?.pid ?? 0;
    // A call in flight keeps the child, however long it takes. The server sleeps 0.5 s before each
    // progress step, so at step 2 at least 1 s (beyond the idle timeout) has passed since the call
    // began, on any machine: the session must still be there then. (After the call ends the idle
    // timer runs again, so checking afterwards would race it.)
    const alive: boolean[] = [];
    const result = await within(
      client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 1.5, steps: 3 } }, undefined, {
        onprogress: ({ progress }) => {
          if (progress >= 2) alive.push(fx?.upstream.sessions().some((s) => s.id === sessionId) ?? false);
        },
      }),
      15_000,
      "a call longer than the idle timeout",
    );
    expect(JSON.stringify(result)).toContain("completed");
    expect(alive).toEqual([true, true]);

    await until(() => fx?.upstream.sessions().length === 0, 10_000, "the idle session to be reaped");
    await until(() => !isAlive(pid), 5_000, "the idle child to exit");
    const after = await postRaw(fx.url, TOOLS_LIST, sessionId);
    expect(after.status).toBe(404);
    await after.body?.cancel();
  });

  it("refuses a session over the cap with 503 and a clear JSON-RPC error, and admits one once a slot frees", async () => {
    fx = await everythingFixture({ maxChildren: 1 });
    const first = await fx.connect();
    const over = await postRaw(fx.url, INITIALIZE);
    expect(over.status).toBe(503);
    expect(over.headers.get("retry-after")).toBe("5");
    expect(await over.json()).toMatchObject({
      id: 1,
      error: { message: "stdio server 'everything' is at its limit of 1 concurrent sessions; retry later" },
    });
    await expect(fx.connect()).rejects.toThrow(/at its limit of 1 concurrent sessions/);
    expect(fx.upstream.sessions()).toHaveLength(1);

    await within(first.transport.terminateSession(), 10_000, "DELETE");
    const next = await fx.connect();
    expect(fx.upstream.sessions().map((s) => s.id)).toEqual([next.sessionId]);
  });

  it("close() stops every child and its process group, answers later requests with 502, and is idempotent", async () => {
    fx = await startFixture({
      name: "wrapped",
      command: "/bin/sh",
      // A wrapper that leaves a grandchild behind, as `npx`-style launchers do.
      args: ["-c", `sleep 300 & echo "grandchild $!" >&2; exec "${NODE}" "${EVERYTHING}" stdio`],
    });
    const a = await fx.connect();
    const b = await fx.connect();
    const pids = fx.upstream.sessions().map((s) => s.pid);
    expect(pids).toHaveLength(2);
    await until(() => fx?.logs.filter((l) => l.startsWith("[wrapped] grandchild ")).length === 2, 5_000, "stderr");
    const grandchildren = (fx.logs ?? [])
      .filter((line) => line.startsWith("[wrapped] grandchild "))
      .map((line) => Number(line.split(" ")[2]));
    extraPids.push(...grandchildren);
    expect([...pids, ...grandchildren].every(isAlive)).toBe(true);

    await within(fx.upstream.close(), 10_000, "close");
    expect(pids.filter(isAlive)).toEqual([]);
    // Orphaned grandchildren are reaped by init, not by us: give it a moment.
    await until(() => !grandchildren.some(isAlive), 5_000, "the grandchildren to be gone");
    expect(fx.upstream.sessions()).toEqual([]);
    await within(fx.upstream.close(), 1_000, "second close");

    const after = await postRaw(fx.url, TOOLS_LIST, a.sessionId);
    expect(after.status).toBe(502);
    expect(await after.json()).toMatchObject({ error: { message: "stdio server 'wrapped' is shut down" } });
    expect(b.sessionId).not.toBe(a.sessionId);
  });
});

import { describe, expect, test } from "vitest";
import { call } from "../stand-ins/anthropic-api-client.ts";
import { eventually, gatedCommand, isRunning, runnerHarness } from "./session-runner-helpers.ts";

const h = runnerHarness();

describe("the lease (protocol §2)", () => {
  test("lease_extended: false ends the work: the running tool is aborted in the sandbox and never posted, the work is force-stopped", async () => {
    const r = await h.claim();
    const [held] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: gatedCommand("go") } }]);
    await eventually(async () => isRunning((await r.details()).toolCalls[0]));
    expect(await h.sandboxBusy(r.sandboxId)).toBe(1);
    r.standIn.refuseLeaseExtension(r.workId);
    await r.untilEnded();
    const details = await r.details();
    expect(details.endReason).toBe("lease not extended");
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    // The call was aborted in the sandbox: it is gone long before its gate's own bound (60 s).
    await eventually(async () => (await h.sandboxBusy(r.sandboxId)) === 0, 30_000);
    await h.putFile(r.sandboxId, "go", "");
    expect((await h.sandboxTool(r.sandboxId, "bash", { command: "echo after" })).text).toBe("after");
    expect(r.results()).toEqual([]);
    expect(r.standIn.pending(r.sessionId)).toEqual([held!.id]);
    expect((await r.details()).toolCalls.map((c) => c.outcome)).toEqual(["abandoned"]);
  });

  test("a 412 (another holder's beat) ends the work without a stop, and nothing more is posted; handed out again, the runner starts anew", async () => {
    const r = await h.claim();
    const [held] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: gatedCommand("go") } }]);
    await eventually(async () => isRunning((await r.details()).toolCalls[0]));
    // Someone else beats with the current value: the runner's next echo no longer matches.
    const current = r.standIn.work(r.workId).lastHeartbeat;
    const stolen = await call(
      r.standIn.url,
      `/v1/environments/${r.environment.id}/work/${r.workId}/heartbeat?expected_last_heartbeat=${encodeURIComponent(current ?? "")}`,
      { method: "POST", token: r.environment.key },
    );
    expect(stolen.status).toBe(200);
    await r.untilEnded();
    expect((await r.details()).endReason).toBe("lease lost");
    // Not force-stopped after a 412: the work is whoever holds the lease now.
    expect(r.standIn.work(r.workId).state).toBe("active");
    expect(r.standIn.calls.some((c) => c.method === "POST" && c.path.endsWith(`/work/${r.workId}/stop`))).toBe(false);
    await h.putFile(r.sandboxId, "go", "");
    expect((await h.sandboxTool(r.sandboxId, "bash", { command: "echo after" })).text).toBe("after");
    expect(r.results()).toEqual([]);

    // Nobody beats any more: the API hands the item out again, and the same runner takes it anew.
    await eventually(async () => r.standIn.work(r.workId).state === "queued", 30_000);
    expect((await r.reclaim()).status).toBe(200);
    expect(await r.textOf(held!)).toEqual({ text: "released", isError: false });
    const details = await r.details();
    expect(details).toMatchObject({ state: "running", endReason: null, toolCallsAnswered: 1 });
    await r.stop("test over");
    await r.untilEnded();
    expect(r.results()).toHaveLength(1);
  });
});

describe("the runner restarted mid-call (exactly once)", () => {
  test("a bash call cut off by the runner's restart is answered interrupted; a read cut off is run again", async () => {
    const r = await h.claim();
    const [bash] = r.standIn.pushToolUses(r.sessionId, [
      { name: "bash", input: { command: gatedCommand("go", "echo ran > ran.txt") } },
    ]);
    await eventually(async () => isRunning((await r.details()).toolCalls[0]));
    await r.reset();
    // The alarm brings the runner back; it does not run bash again.
    const interrupted = await r.textOf(bash!);
    expect(interrupted.isError).toBe(true);
    expect(interrupted.text).toBe(
      "bash: interrupted: the worker restarted while this call was running; it may or may not have completed",
    );
    await h.putFile(r.sandboxId, "go", "");

    // Keep the sandbox busy so the runner's read waits there, then restart the runner during it.
    await h.putFile(r.sandboxId, "data.txt", "kept\n");
    const blocker = h.sandboxTool(r.sandboxId, "bash", { command: gatedCommand("go2") });
    await eventually(async () => (await h.sandboxBusy(r.sandboxId)) >= 1);
    const [read] = r.standIn.pushToolUses(r.sessionId, [{ name: "read", input: { file_path: "data.txt" } }]);
    await eventually(async () => isRunning((await r.details()).toolCalls[1]));
    await r.reset();
    await h.putFile(r.sandboxId, "go2", "");
    await blocker;
    const reread = await r.textOf(read!);
    expect(reread.isError).toBe(false);
    expect(reread.text).toMatch(/kept$/);
    const outcomes = (await r.details()).toolCalls.map((c) => c.outcome);
    expect(outcomes).toEqual(["interrupted", "ok"]);
    expect(r.results()).toHaveLength(2);
    // bash ran once (the runner did not start it again): ran.txt exists from that one run.
    expect((await h.sandboxTool(r.sandboxId, "bash", { command: "cat ran.txt" })).text).toBe("ran");
    await r.stop("test over");
    await r.untilEnded();
  });
});

describe("stop(reason) from the environment", () => {
  test("a running tool is left unposted, the work is force-stopped, the reason is kept", async () => {
    const r = await h.claim();
    const [held] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: gatedCommand("go") } }]);
    await eventually(async () => isRunning((await r.details()).toolCalls[0]));
    expect((await r.stop("environment deleted")).status).toBe(204);
    await r.untilEnded();
    expect((await r.details()).endReason).toBe("environment deleted");
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    await h.putFile(r.sandboxId, "go", "");
    expect((await h.sandboxTool(r.sandboxId, "bash", { command: "echo after" })).text).toBe("after");
    expect(r.results()).toEqual([]);
    expect(r.standIn.pending(r.sessionId)).toEqual([held!.id]);
    // A second stop changes nothing.
    expect((await r.stop("again")).status).toBe(204);
    expect((await r.details()).endReason).toBe("environment deleted");
  });
});

describe("an operator's stop", () => {
  test("the work seen stopping on a heartbeat ends it and force-stops it", async () => {
    const r = await h.claim();
    r.standIn.operatorStop(r.workId);
    await r.untilEnded();
    expect((await r.details()).endReason).toBe("work stopping");
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    expect(
      r
        .calls()
        .filter((c) => c.path.endsWith("/stop"))
        .map((c) => c.status),
    ).toEqual([200]);
  });
});

describe("the idle exit (protocol §3, §8)", () => {
  test("60 s after end_turn with nothing new, the work ends and is force-stopped; the sandbox stays", async () => {
    const r = await h.claim();
    const [use] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: "echo last" } }]);
    expect(await r.textOf(use!)).toEqual({ text: "last", isError: false });
    r.standIn.idle(r.sessionId, { type: "end_turn" });
    // Waits out the idle minute (no clock of the stand-in decides it: the runner's alarm does).
    await eventually(async () => (await r.details()).state === "ended", 120_000, 1000);
    const details = await r.details();
    expect(details.endReason).toBe("end_turn idle");
    expect(details.endedAt! - details.startedAt).toBeGreaterThanOrEqual(60_000);
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    expect(await h.sandboxExists(r.sandboxId)).toBe(true);
  }, 180_000);
});

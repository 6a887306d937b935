import { describe, expect, test } from "vitest";
import { eventually, runnerHarness } from "./session-runner-helpers.ts";

const h = runnerHarness();
/** A read's text without the sandbox tool's line numbers (the toolset's format comes with it later). */
const plain = (text: string) => text.replace(/^ *\d+\t/gm, "").trimEnd();

describe("a session runner runs the toolset in the session's sandbox", () => {
  test("every toolset tool, answered once each; invalid input is_error; unowned and custom tools get nothing; terminated stops the work and keeps the sandbox", async () => {
    const r = await h.claim();
    const [write, read, edit, glob, grep, bash, invalid, unowned, custom] = r.standIn.pushToolUses(r.sessionId, [
      { name: "write", input: { file_path: "notes/a.txt", content: "hello\nworld\n" } },
      { name: "read", input: { file_path: "notes/a.txt" } },
      { name: "edit", input: { file_path: "notes/a.txt", old_string: "world", new_string: "tether" } },
      { name: "glob", input: { pattern: "**/*.txt" } },
      { name: "grep", input: { pattern: "tether" } },
      { name: "bash", input: { command: "cat notes/a.txt | wc -l; echo made-by-bash > notes/b.txt" } },
      { name: "read", input: { view_range: [1, 2] } },
      { name: "web_fetch", input: { url: "https://example.com" } },
      { name: "lookup", input: { q: "x" }, custom: true },
    ]);
    expect(await r.textOf(write!)).toEqual({ text: "wrote 12 bytes to notes/a.txt", isError: false });
    const readBack = await r.textOf(read!);
    expect({ ...readBack, text: plain(readBack.text) }).toEqual({ text: "hello\nworld", isError: false });
    expect(await r.textOf(edit!)).toEqual({ text: "edited notes/a.txt (1 replacement(s))", isError: false });
    expect((await r.textOf(glob!)).text).toContain("notes/a.txt");
    expect((await r.textOf(grep!)).text).toMatch(/notes\/a\.txt:2:.*tether/);
    expect((await r.textOf(bash!)).text.trim()).toBe("2");
    const bad = await r.textOf(invalid!);
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/^read: invalid input: .*file_path/);
    // The sandbox holds what the tools did.
    expect(plain((await h.sandboxTool(r.sandboxId, "read", { file_path: "notes/a.txt" })).text)).toBe("hello\ntether");
    expect(plain((await h.sandboxTool(r.sandboxId, "read", { file_path: "notes/b.txt" })).text)).toBe("made-by-bash");

    expect(r.results()).toHaveLength(7);
    expect(r.standIn.pending(r.sessionId).sort()).toEqual([unowned!.id, custom!.id].sort());
    const details = await r.details();
    expect(details.toolCallsAnswered).toBe(7);
    expect(details.toolCalls.map((c) => c.outcome)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok", "error", null]);

    r.standIn.terminate(r.sessionId);
    await r.untilEnded();
    const ended = await r.details();
    expect(ended.endReason).toBe("terminated");
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    expect(await h.sandboxExists(r.sandboxId)).toBe(true);
    expect(r.results()).toHaveLength(7);
    // Nothing secret in what operators see.
    const shown = JSON.stringify(ended);
    expect(shown).not.toContain(r.environment.key);
    expect(shown).not.toContain("sk-ant-req-");
  });
});

describe("permissions (protocol §4)", () => {
  test("allow and absent run; ask waits for its verdict; deny and refused run nothing and post nothing; an early verdict is kept", async () => {
    const r = await h.claim();
    // A verdict that comes before its tool use.
    r.standIn.confirm(r.sessionId, "sevt_early_allow", "allow");
    r.standIn.confirm(r.sessionId, "sevt_early_deny", "deny");
    const [allowed, asked, refused, denied, unknown] = r.standIn.pushToolUses(r.sessionId, [
      { name: "bash", input: { command: "echo allowed" }, permission: "allow" },
      { name: "bash", input: { command: "echo asked > asked.txt; echo asked" }, permission: "ask" },
      { name: "bash", input: { command: "echo refused > refused.txt" }, permission: "ask" },
      { name: "bash", input: { command: "echo denied > denied.txt" }, permission: "deny" },
      { name: "bash", input: { command: "echo unknown > unknown.txt" }, permission: "sometimes" },
    ]);
    const early = r.standIn.pushEvent(r.sessionId, {
      type: "agent.tool_use",
      id: "sevt_early_allow",
      name: "bash",
      input: { command: "echo early" },
      evaluated_permission: "ask",
    });
    const earlyDenied = r.standIn.pushEvent(r.sessionId, {
      type: "agent.tool_use",
      id: "sevt_early_deny",
      name: "bash",
      input: { command: "echo early-denied > early-denied.txt" },
      evaluated_permission: "ask",
    });
    expect(await r.textOf(allowed!)).toEqual({ text: "allowed", isError: false });
    expect(await r.textOf(early)).toEqual({ text: "early", isError: false });
    // The asked calls wait for their verdicts.
    await eventually(async () => (await r.details()).pendingConfirmations === 3);
    r.standIn.confirm(r.sessionId, asked!.id, "allow");
    r.standIn.confirm(r.sessionId, refused!.id, "deny", "not now");
    r.standIn.confirm(r.sessionId, unknown!.id, "maybe");
    expect(await r.textOf(asked!)).toEqual({ text: "asked", isError: false });
    await eventually(async () => (await r.details()).pendingConfirmations === 0);

    const outcomes = Object.fromEntries((await r.details()).toolCalls.map((c) => [c.toolUseId, c.outcome]));
    expect(outcomes).toEqual({
      [allowed!.id]: "ok",
      [asked!.id]: "ok",
      [refused!.id]: "denied",
      [denied!.id]: "denied",
      [unknown!.id]: "denied",
      [early.id]: "ok",
      [earlyDenied.id]: "denied",
    });
    expect(
      r
        .results()
        .map((result) => result.tool_use_id)
        .sort(),
    ).toEqual([allowed!.id, asked!.id, early.id].sort());
    const files = await h.sandboxTool(r.sandboxId, "bash", { command: "ls *.txt" });
    expect(files.text.split("\n").sort()).toEqual(["asked.txt"]);
    await r.stop("test over");
    await r.untilEnded();
    expect(r.standIn.work(r.workId).state).toBe("stopped");
  });
});

describe("exactly once (protocol §3)", () => {
  test("a dropped stream, duplicated events, 5xx and 429 with Retry-After on the results: every result posted once", async () => {
    const { faults } = h.standIn();
    // The runner's first stream breaks after three events (the runner has not opened it yet).
    faults.dropNextStreamAfter(3);
    const r = await h.claim();
    faults.duplicateNextEvents(4);
    faults.failNext(2, 503, { match: /^POST \/v1\/sessions\/[^/]+\/events$/ });
    faults.failNext(1, 429, { retryAfterSeconds: 1, match: /^POST \/v1\/sessions\/[^/]+\/events$/ });
    const uses = r.standIn.pushToolUses(
      r.sessionId,
      [1, 2, 3, 4, 5].map((n) => ({ name: "bash", input: { command: `echo ${n} >> log.txt; echo ${n}` } })),
    );
    for (const [index, use] of uses.entries()) {
      expect(await r.textOf(use)).toEqual({ text: String(index + 1), isError: false });
    }
    expect(faults.applied).toMatchObject({ failures: 3, streamDrops: 1, duplicates: 4 });
    await r.standIn.untilStreamsOpened(r.sessionId, 2);
    // Each call ran once: the log has each line once.
    expect((await h.sandboxTool(r.sandboxId, "bash", { command: "cat log.txt" })).text).toBe("1\n2\n3\n4\n5");
    expect(r.results()).toHaveLength(5);
    expect((await r.details()).toolCallsAnswered).toBe(5);
    await r.stop("test over");
    await r.untilEnded();
  });
});

describe("credentials (protocol §0)", () => {
  test("the sessions token carries the work's calls (ack keeps the key); a second start changes nothing; a rotated key does not matter", async () => {
    const r = await h.claim();
    const again = await r.start();
    expect(again.status).toBe(200);
    expect(((await again.json()) as { workId: string }).workId).toBe(r.workId);
    const [use] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: "echo with-token" } }]);
    expect(await r.textOf(use!)).toEqual({ text: "with-token", isError: false });
    // The work item's calls go on with its own token when the environment key changes.
    r.standIn.rotateEnvironmentKey(r.environment.id);
    const [after] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: "echo still" } }]);
    expect(await r.textOf(after!)).toEqual({ text: "still", isError: false });
    r.standIn.deleteSession(r.sessionId);
    await r.untilEnded();
    expect((await r.details()).endReason).toBe("session deleted");
    expect(r.standIn.work(r.workId).state).toBe("stopped");
    const calls = r.calls();
    expect(calls.filter((c) => c.path.endsWith("/ack"))).toEqual([
      expect.objectContaining({ principal: "environment" }),
    ]);
    const others = calls.filter((c) => !c.path.endsWith("/ack"));
    expect(new Set(others.map((c) => c.principal))).toEqual(new Set(["work"]));
    expect(others.filter((c) => c.path.endsWith("/heartbeat")).length).toBeGreaterThanOrEqual(1);
  });

  test("without a secret the environment key is used everywhere; a refused key ends the work at once", async () => {
    const r = await h.claim({ secret: false });
    const [use] = r.standIn.pushToolUses(r.sessionId, [{ name: "bash", input: { command: "echo with-key" } }]);
    expect(await r.textOf(use!)).toEqual({ text: "with-key", isError: false });
    expect(new Set(r.calls().map((c) => c.principal))).toEqual(new Set(["environment"]));
    r.standIn.rotateEnvironmentKey(r.environment.id);
    await r.untilEnded();
    const details = await r.details();
    expect(details.endReason).toBe("credentials refused");
    expect(details.lastError).toMatch(/^401 from .*: the environment key was refused/);
    expect(JSON.stringify(details)).not.toContain(r.environment.key);
  });
});

describe("bad starts", () => {
  test("a malformed secret, work that is not a session, or another work item under the same name are refused with nothing stored", async () => {
    const r = await h.claim();
    const post = async (name: string, start: unknown) => {
      const res = await fetch(`${h.edge().url}/test/runner/start`, {
        method: "POST",
        body: JSON.stringify({ name, start }),
        signal: AbortSignal.timeout(60_000),
      });
      return { status: res.status, body: (await res.json()) as { error?: string; workId?: string } };
    };
    const environment = {
      name: "runner-tests",
      environmentId: r.environment.id,
      apiBaseUrl: r.standIn.url,
      mode: "poll",
      backend: { type: "edge" },
      maxSessions: 1,
      sandbox: {},
    };
    const work = (id: string, extra: Record<string, unknown>) => ({
      type: "work",
      id,
      environment_id: r.environment.id,
      data: { type: "session", id: r.sessionId },
      state: "queued",
      ...extra,
    });
    const secret = "not*base64url-and-secret-looking";
    const bad = await post("runner-tests/work_bad_secret", {
      environment,
      environmentKey: r.environment.key,
      work: work("work_bad_secret", { secret }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("work secret is not base64url JSON");
    expect(bad.body.error).not.toContain(secret);
    const healthcheck = await post("runner-tests/work_health", {
      environment,
      environmentKey: r.environment.key,
      work: { ...work("work_health", {}), data: { type: "other", data_type: "healthcheck" } },
    });
    expect(healthcheck.body.error).toContain("only session work is run");
    for (const name of ["runner-tests/work_bad_secret", "runner-tests/work_health"]) {
      expect((await fetch(`${h.edge().url}/test/runner/${encodeURIComponent(name)}`)).status).toBe(404);
    }
    const other = await post(r.name, { environment, environmentKey: r.environment.key, work: work("work_other", {}) });
    expect(other.body.error).toContain("this runner serves another work item");
    expect((await r.details()).workId).toBe(r.workId);
    await r.stop("test over");
    await r.untilEnded();
  });
});

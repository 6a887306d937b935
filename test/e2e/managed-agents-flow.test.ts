/**
 * A Managed Agents session from end to end, as a customer runs it: an environment created through
 * the admin API (poll mode, then webhook mode), Anthropic's side played by the local API stand-in,
 * a scripted agent that uses every tool of the toolset, each posted result checked against what the
 * session's sandbox holds, the operators' views, and a clean end (work stopped, sandbox kept, the
 * environment's place freed). Then 20 sessions at once on one environment. Every edge log line and
 * admin answer is scanned for the environment key and the work's sessions token.
 */
import { afterAll, describe, expect, test } from "vitest";
import { sessionSandboxId } from "../../src/managed-agents/runner-contract.ts";
import type { StoredEvent } from "../stand-ins/anthropic-api-stand-in.ts";
import { environmentHarness, eventually, leakedPiece } from "./environment-helpers.ts";

const h = environmentHarness();
const secrets: string[] = [];

afterAll(() => {
  expect(leakedPiece(h.transcript(), secrets)).toBeNull();
});

interface PostedResult {
  tool_use_id: string;
  is_error?: boolean;
  content?: { type: string; text: string }[];
}

/** Creates the environment on both sides; answers the stand-in's ids. */
async function environment(name: string, mode: "poll" | "webhook", maxSessions = 4) {
  const webhookUrl = `${h.edge().url}/managed-agents/${name}/webhook`;
  const api = h.api().createEnvironment(mode === "webhook" ? { webhookUrl } : {});
  secrets.push(api.key);
  if (api.webhookSecret) secrets.push(api.webhookSecret);
  const created = await h.admin("POST", "/admin/environments", {
    name,
    environment_id: api.id,
    environment_key: api.key,
    api_base_url: h.api().url,
    mode,
    max_sessions: maxSessions,
    ...(api.webhookSecret ? { webhook_secret: api.webhookSecret } : {}),
  });
  expect(created.status).toBe(201);
  if (mode === "webhook") expect(created.body).toMatchObject({ webhook_url: webhookUrl });
  return api;
}

async function openSession(environmentId: string) {
  const session = h.api().createSession(environmentId);
  if (session.sessionsToken) secrets.push(session.sessionsToken);
  await h.api().untilStreamsOpened(session.sessionId, 1);
  return session;
}

/** The agent's tool use; answers the result the edge posted for it (waiting for it). */
async function use(sessionId: string, name: string, input: Record<string, unknown>): Promise<PostedResult> {
  const [event] = h.api().pushToolUses(sessionId, [{ name, input }]);
  if (!event) throw new Error("the stand-in recorded no tool use");
  let found: PostedResult | undefined;
  await eventually(async () => {
    found = resultsFor(h.api().posted(sessionId), event.id)[0];
    return found !== undefined;
  });
  return found as PostedResult;
}

function resultsFor(posted: readonly StoredEvent[], toolUseId: string): PostedResult[] {
  return posted.filter(
    (event): event is StoredEvent & PostedResult =>
      event.type === "user.tool_result" && "tool_use_id" in event && event.tool_use_id === toolUseId,
  );
}

const text = (result: PostedResult) => result.content?.map((block) => block.text).join("") ?? "";

/** A file as the session's sandbox holds it (the sandbox API with the admin token). */
async function held(sessionId: string, path: string): Promise<string | null> {
  const res = await fetch(`${h.edge().url}/v1/sandboxes/${sessionSandboxId(sessionId)}/files${path}`, {
    headers: { authorization: `Bearer ${h.edge().adminToken}` },
  });
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return res.text();
}

/** Every tool of the toolset, each result checked against the sandbox. */
async function scriptedSession(sessionId: string): Promise<number> {
  const content = "# Plan\nTODO: read the logs\nTODO: fix the build\ndone: coffee\n";
  expect(await use(sessionId, "write", { file_path: "notes/plan.md", content })).toMatchObject({
    is_error: false,
    content: [{ type: "text", text: `wrote ${new TextEncoder().encode(content).byteLength} bytes to notes/plan.md` }],
  });
  expect(await held(sessionId, "/workspace/notes/plan.md")).toBe(content);

  expect(text(await use(sessionId, "read", { file_path: "notes/plan.md" }))).toBe(content);
  expect(text(await use(sessionId, "read", { file_path: "/workspace/notes/plan.md", view_range: [2, 3] }))).toBe(
    "TODO: read the logs\nTODO: fix the build",
  );

  const edited = await use(sessionId, "edit", {
    file_path: "notes/plan.md",
    old_string: "fix the build",
    new_string: "ship it",
  });
  expect(text(edited)).toBe("edited notes/plan.md (1 replacement(s))");
  const after = content.replace("fix the build", "ship it");
  expect(await held(sessionId, "/workspace/notes/plan.md")).toBe(after);

  // The persistent shell: cd carries over to the next call; output is what the files hold.
  expect(text(await use(sessionId, "bash", { command: "cd notes && echo more > extra.txt" }))).toBe("(no output)");
  const listed = await use(sessionId, "bash", { command: "pwd; cat plan.md extra.txt" });
  expect(listed.is_error).toBe(false);
  expect(text(listed)).toBe(`/workspace/notes\n${after}more`);
  const failed = await use(sessionId, "bash", { command: "ls /no/such/dir" });
  expect(failed.is_error).toBe(true);

  const globbed = text(await use(sessionId, "glob", { pattern: "**/*" }));
  expect(globbed.split("\n").sort()).toEqual(["/workspace/notes/extra.txt", "/workspace/notes/plan.md"]);
  const grepped = text(await use(sessionId, "grep", { pattern: "TODO" }));
  expect(grepped).toBe("/workspace/notes/plan.md:2:TODO: read the logs\n/workspace/notes/plan.md:3:TODO: ship it");

  // Bad input to a tool the worker owns: an error result, never silence; nothing written.
  const bad = await use(sessionId, "write", { file_path: "x.txt" });
  expect(bad.is_error).toBe(true);
  expect(text(bad)).toMatch(/^write: invalid input/);
  expect(await held(sessionId, "/workspace/x.txt")).toBeNull();
  return 10;
}

async function endsCleanly(name: string, session: { sessionId: string; workId: string }, answered: number) {
  const detail = (await h.admin("GET", `/admin/environments/${name}/sessions/${session.workId}`)).body as {
    toolCallsAnswered: number;
    sandboxId: string;
    toolCalls: { tool: string; outcome: string }[];
  };
  expect(detail.toolCallsAnswered).toBe(answered);
  expect(detail.sandboxId).toBe(sessionSandboxId(session.sessionId));
  expect(detail.toolCalls.map((call) => call.tool)).toEqual([
    "write",
    "read",
    "read",
    "edit",
    "bash",
    "bash",
    "bash",
    "glob",
    "grep",
    "write",
  ]);
  // Every tool use answered exactly once.
  const posted = h
    .api()
    .posted(session.sessionId)
    .filter((event) => event.type === "user.tool_result");
  expect(posted).toHaveLength(answered);
  expect(h.api().pending(session.sessionId)).toEqual([]);

  h.api().terminate(session.sessionId);
  await eventually(async () => h.api().work(session.workId).state === "stopped");
  await eventually(async () => {
    const view = (await h.admin("GET", `/admin/environments/${name}`)).body as { live_sessions: number };
    return view.live_sessions === 0;
  });
  // The sandbox outlives the session for its TTL, visible to operators.
  const sandbox = await h.admin("GET", `/admin/sandboxes/${sessionSandboxId(session.sessionId)}`);
  expect(sandbox.status).toBe(200);
  expect(await held(session.sessionId, "/workspace/notes/plan.md")).toContain("ship it");
}

describe("a scripted Managed Agents session through the edge", () => {
  test("poll mode: every tool of the toolset, results match the sandbox, clean end", async () => {
    const api = await environment("flow-poll", "poll");
    const session = await openSession(api.id);
    const answered = await scriptedSession(session.sessionId);
    await endsCleanly("flow-poll", session, answered);
  });

  test("webhook mode: the signed webhook wakes the edge; the same session runs the same way", async () => {
    const api = await environment("flow-webhook", "webhook");
    const session = await openSession(api.id);
    const delivery = h.api().webhookDeliveries.find((sent) => sent.payload.data.id === session.sessionId);
    expect(delivery).toMatchObject({ delivered: true, attempts: [200] });
    const answered = await scriptedSession(session.sessionId);
    await endsCleanly("flow-webhook", session, answered);
  });

  test("20 sessions at once on one environment: each answered once; a 21st waits for a free place", async () => {
    const api = await environment("flow-many", "poll", 20);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => openSession(api.id)));
    const extra = h.api().createSession(api.id);
    if (extra.sessionsToken) secrets.push(extra.sessionsToken);
    const results = await Promise.all(
      sessions.map(async ({ sessionId }, i) => {
        await use(sessionId, "write", { file_path: `s${i}.txt`, content: `session ${i}\n` });
        return text(await use(sessionId, "bash", { command: `cat s${i}.txt` }));
      }),
    );
    expect(results).toEqual(sessions.map((_, i) => `session ${i}`));
    for (const { sessionId } of sessions) {
      const posted = h
        .api()
        .posted(sessionId)
        .filter((event) => event.type === "user.tool_result");
      expect(posted).toHaveLength(2);
    }
    // At max_sessions the 21st item stays queued, unacknowledged, for another worker.
    expect(h.api().work(extra.workId).state).toBe("queued");
    expect(h.api().work(extra.workId).acknowledgedAt).toBeNull();

    const [first] = sessions;
    if (!first) throw new Error("no session");
    h.api().terminate(first.sessionId);
    await eventually(async () => h.api().work(extra.workId).acknowledgedAt !== null);
    for (const { sessionId } of sessions.slice(1)) h.api().terminate(sessionId);
    h.api().terminate(extra.sessionId);
    await eventually(async () => [...sessions, extra].every(({ workId }) => h.api().work(workId).state === "stopped"));
  });
});

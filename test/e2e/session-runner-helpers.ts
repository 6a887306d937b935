/**
 * Session runner tests: the Anthropic API stand-in in Node and the real edge in Miniflare, with a
 * test Worker (session-runner-worker.ts) bound to the edge's SessionRunner objects. The test plays
 * the environment's part: it polls the stand-in for work and hands it to a runner.
 */
import { join } from "node:path";
import { unpackTar } from "modern-tar";
import { afterAll, beforeAll, expect } from "vitest";
import type { EnvironmentConfig } from "../../src/managed-agents/environment-config.ts";
import type { Work } from "../../src/managed-agents/protocol.ts";
import { type RunnerDetails, runnerName, sessionSandboxId } from "../../src/managed-agents/runner-contract.ts";
import { ROOT, type RunningEdge, startEdge } from "../helpers/edge.ts";
import { call } from "../stand-ins/anthropic-api-client.ts";
import {
  type AnthropicApiStandIn,
  type SessionSettings,
  type StoredEvent,
  startAnthropicApiStandIn,
} from "../stand-ins/anthropic-api-stand-in.ts";
import { eventually } from "./sandbox-helpers.ts";

export { eventually };
export const ENVIRONMENT_NAME = "runner-tests";
/** Short enough that heartbeats (every ttl/2) and the alarm's restarts come within seconds. */
const LEASE_TTL_SECONDS = 10;

export interface ToolResultEcho {
  tool_use_id: string;
  content: { type: string; text: string }[];
  is_error?: boolean;
}

/** Texts compared without trailing newlines (the sandbox's bash keeps them; the toolset strips them). */
const trimNewlines = (text: string) => text.replace(/\n+$/, "");

/** A bash command that waits (bounded) until the test writes /workspace/NAME, then says "released". */
export function gatedCommand(name: string, then = "echo released"): string {
  return `for i in $(seq 1 600); do [ -f /workspace/${name} ] && break; sleep 0.1; done; ${then}`;
}

/** A call the runner has started and not finished (recorded `running`). */
export const isRunning = (call: { startedAt: number | null; outcome: string | null } | undefined) =>
  call !== undefined && call.startedAt !== null && call.outcome === null;

export function runnerHarness() {
  let standIn: AnthropicApiStandIn | undefined;
  let edge: RunningEdge | undefined;
  beforeAll(async () => {
    standIn = await startAnthropicApiStandIn({ pingIntervalMs: 0 });
    edge = await startEdge({
      workers: [
        {
          name: "session-runner-test",
          entry: join(ROOT, "test/e2e/session-runner-worker.ts"),
          routes: ["*/test/runner/*"],
          durableObjects: { SESSION_RUNNER: { edgeClass: "SessionRunner" } },
        },
      ],
    });
  });
  afterAll(async () => {
    await edge?.close();
    await standIn?.close();
  });
  const api = () => {
    if (!standIn) throw new Error("the stand-in is not running");
    return standIn;
  };
  const theEdge = () => {
    if (!edge) throw new Error("the edge is not running");
    return edge;
  };

  const edgeFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${theEdge().url}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });

  /** Creates a session (with these skills and memory stores), polls its work as a worker would and hands it to a runner. */
  async function claim(options: Omit<SessionSettings, "apiBaseUrl"> = {}) {
    const standIn = api();
    const environment = standIn.createEnvironment({ ttlSeconds: LEASE_TTL_SECONDS });
    const session = standIn.createSession(environment.id, { ...options, secret: options.secret ?? true });
    const polled = await call(standIn.url, `/v1/environments/${environment.id}/work/poll?block_ms=999`, {
      token: environment.key,
    });
    const work = (await polled.json()) as Work;
    expect(work.id).toBe(session.workId);
    const name = runnerName(ENVIRONMENT_NAME, work.id);
    const config: EnvironmentConfig = {
      name: ENVIRONMENT_NAME,
      environmentId: environment.id,
      apiBaseUrl: standIn.url,
      mode: "poll",
      backend: { type: "edge" },
      maxSessions: 16,
      sandbox: {},
    };
    const startWith = (handed: Work) =>
      edgeFetch("/test/runner/start", {
        method: "POST",
        body: JSON.stringify({ name, start: { environment: config, environmentKey: environment.key, work: handed } }),
      });
    const start = () => startWith(work);
    const started = await start();
    expect(started.status, await started.clone().text()).toBe(200);
    const sessionId = session.sessionId;
    // Events are pushed once the stream is open: the runner's history read covers what came before.
    await standIn.untilStreamsOpened(sessionId, 1);

    const details = async (): Promise<RunnerDetails> => {
      const res = await edgeFetch(`/test/runner/${encodeURIComponent(name)}`);
      expect(res.status).toBe(200);
      return (await res.json()) as RunnerDetails;
    };
    const results = () =>
      standIn.posted(sessionId).filter((event) => event.type === "user.tool_result") as unknown as ToolResultEcho[];
    /** The one result posted for `use` (fails if it was posted twice). */
    const resultOf = async (use: StoredEvent): Promise<ToolResultEcho> => {
      await eventually(async () => results().some((r) => r.tool_use_id === use.id), 30_000);
      const found = results().filter((r) => r.tool_use_id === use.id);
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    const textOf = async (use: StoredEvent) => {
      const result = await resultOf(use);
      return { text: trimNewlines(result.content.map((c) => c.text).join("")), isError: result.is_error === true };
    };
    const untilEnded = () => eventually(async () => (await details()).state === "ended", 30_000);
    return {
      standIn,
      environment,
      /** The same start again (what an environment retrying its claim does). */
      start,
      /** Polls the item again (handed out anew after its lease lapsed) and hands it to the same runner. */
      reclaim: async () => {
        const again = await call(standIn.url, `/v1/environments/${environment.id}/work/poll?block_ms=999`, {
          token: environment.key,
        });
        const handed = (await again.json()) as Work;
        expect(handed.id).toBe(work.id);
        return startWith(handed);
      },
      /** The stand-in's record of the calls made for this work item and its session. */
      calls: () =>
        standIn.calls.filter((c) => c.path.includes(`/work/${work.id}`) || c.path.includes(`/sessions/${sessionId}`)),
      sessionId,
      workId: work.id,
      name,
      sandboxId: sessionSandboxId(sessionId),
      details,
      results,
      resultOf,
      textOf,
      untilEnded,
      /** Resets the runner as a restart does, its calls in flight (see SessionRunner.resetForTest). */
      reset: async () => {
        const res = await edgeFetch(`/test/runner/${encodeURIComponent(name)}/reset`, { method: "POST" });
        expect(res.status).toBe(204);
      },
      stop: (reason: string) =>
        edgeFetch(`/test/runner/${encodeURIComponent(name)}/stop`, {
          method: "POST",
          body: JSON.stringify({ reason }),
        }),
    };
  }

  /** Runs a tool in a sandbox through the edge's HTTP API (admin token), as a check from outside. */
  async function sandboxTool(sandboxId: string, name: string, input: Record<string, unknown>) {
    const res = await edgeFetch(`/v1/sandboxes/${sandboxId}/tool-calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${theEdge().adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "tool_use", id: `check_${crypto.randomUUID().slice(0, 8)}`, name, input }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { content: { content: { text: string }[]; is_error: boolean }[] };
    return {
      text: trimNewlines(body.content[0]!.content.map((c) => c.text).join("")),
      isError: body.content[0]!.is_error,
    };
  }

  /** Every entry in the sandbox (its export.tar, read through the files API): `/`-rooted path, directories ending in `/`, and mode. */
  async function sandboxEntries(sandboxId: string): Promise<{ path: string; mode: number }[]> {
    const res = await edgeFetch(`/v1/sandboxes/${sandboxId}/export.tar`, { headers: admin() });
    expect(res.status).toBe(200);
    const entries = await unpackTar(new Uint8Array(await res.arrayBuffer()), { strict: true });
    return entries.map((entry) => ({ path: `/${entry.header.name}`, mode: (entry.header.mode ?? 0) & 0o777 }));
  }

  const sandboxTree = async (sandboxId: string) => (await sandboxEntries(sandboxId)).map((entry) => entry.path);

  /** A file's text through the files API, or null when there is no such file. */
  async function sandboxFile(sandboxId: string, path: string): Promise<string | null> {
    const res = await edgeFetch(`/v1/sandboxes/${sandboxId}/files${path}`, { headers: admin() });
    if (res.status === 404) return null;
    expect(res.status, await res.clone().text()).toBe(200);
    return res.text();
  }

  const sandboxExists = async (sandboxId: string) =>
    (
      await edgeFetch(`/v1/sandboxes/${sandboxId}`, {
        headers: { authorization: `Bearer ${theEdge().adminToken}` },
      })
    ).status === 200;

  const admin = () => ({ authorization: `Bearer ${theEdge().adminToken}` });

  /**
   * Writes a file into the sandbox through the files API (not the tool queue: it gets past a busy
   * call); `path` is absolute, or relative to /workspace.
   */
  async function putFile(sandboxId: string, path: string, content: string): Promise<void> {
    const absolute = path.startsWith("/") ? path : `/workspace/${path}`;
    const res = await edgeFetch(`/v1/sandboxes/${sandboxId}/files${absolute}`, {
      method: "PUT",
      headers: admin(),
      body: content,
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }

  /** Tool calls running or queued in the sandbox. */
  async function sandboxBusy(sandboxId: string): Promise<number> {
    const res = await edgeFetch(`/v1/sandboxes/${sandboxId}`, { headers: admin() });
    expect(res.status).toBe(200);
    return ((await res.json()) as { busy: number }).busy;
  }

  return {
    standIn: api,
    edge: theEdge,
    claim,
    sandboxTool,
    sandboxExists,
    putFile,
    sandboxBusy,
    sandboxTree,
    sandboxEntries,
    sandboxFile,
  };
}

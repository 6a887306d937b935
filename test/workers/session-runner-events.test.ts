/**
 * How session events change a runner's stored state (durable-objects/session-runner/session-event.ts)
 * over a real SessionRunner's SQLite storage: dedupe by id, verdicts kept, echoes, the idle clock.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { applySessionEvent, type EventEffect } from "../../durable-objects/session-runner/session-event.ts";
import { RunnerStore } from "../../durable-objects/session-runner/store.ts";
import { type SessionEvent, SessionEventSchema } from "../../src/managed-agents/protocol.ts";
import { IDLE_EXIT_MS } from "../../src/managed-agents/runner/timings.ts";

const NOW = 1_000_000;

async function withStore(check: (store: RunnerStore, apply: (event: unknown) => EventEffect) => void): Promise<void> {
  const stub = env.SESSION_RUNNER.get(env.SESSION_RUNNER.idFromName(`events-${crypto.randomUUID()}`));
  await runInDurableObject(stub, (_instance, state) => {
    const store = new RunnerStore(state.storage.sql);
    store.create({
      work: {
        type: "work",
        id: "work_1",
        environment_id: "env_1",
        data: { type: "session", id: "sesn_1" },
        state: "queued",
        secret: "c2VjcmV0",
      },
      environment: {
        name: "events",
        environmentId: "env_1",
        apiBaseUrl: "https://api.example",
        mode: "poll",
        backend: { type: "edge" },
        maxSessions: 1,
        sandbox: {},
      },
      environmentKey: "sk-ant-oat01-secret-key",
      sessionsToken: "sk-ant-req-secret-token",
      tokenBaseUrl: null,
      sessionId: "sesn_1",
      now: NOW,
    });
    check(store, (event) => applySessionEvent(store, SessionEventSchema.parse(event) as SessionEvent, NOW));
  });
}

const toolUse = (id: string, permission?: string) => ({
  type: "agent.tool_use",
  id,
  name: "bash",
  input: { command: "true" },
  ...(permission ? { evaluated_permission: permission } : {}),
});

describe("session events and the runner's store", () => {
  test("a tool use is recorded once, in order; its echo answers it", () =>
    withStore((store, apply) => {
      expect(apply(toolUse("sevt_a"))).toEqual({ kind: "calls" });
      expect(apply(toolUse("sevt_a"))).toEqual({ kind: "none" });
      expect(apply(toolUse("sevt_b", "ask"))).toEqual({ kind: "calls" });
      expect(store.nextCall()).toMatchObject({ tool_use_id: "sevt_a", status: "queued", permission: "allow" });
      apply({ type: "user.tool_result", id: "sevt_r", tool_use_id: "sevt_a" });
      expect(store.nextCall()).toMatchObject({ tool_use_id: "sevt_b", permission: "ask" });
    }));

  test("an echo of a result whose POST was sent counts it posted; an echo of one never sent drops it", () =>
    withStore((store, apply) => {
      for (const id of ["sevt_sent", "sevt_unsent"]) {
        apply(toolUse(id));
        store.running(id, NOW);
        store.storeResult(id, { content: [{ type: "text", text: "x" }], is_error: false }, "ok", 1);
      }
      store.postTried("sevt_sent");
      apply({ type: "user.tool_result", id: "sevt_e1", tool_use_id: "sevt_sent" });
      apply({ type: "user.tool_result", id: "sevt_e2", tool_use_id: "sevt_unsent" });
      expect(store.call("sevt_sent")).toMatchObject({ status: "posted", posted_at: NOW });
      expect(store.call("sevt_unsent")).toMatchObject({ status: "dropped", posted_at: null });
      expect(store.nextCall()).toBeUndefined();
      expect(store.counts().answered).toBe(1);
    }));

  test("a verdict that comes first is kept and releases the held call when it comes", () =>
    withStore((store, apply) => {
      apply({ type: "user.tool_confirmation", id: "sevt_c", tool_use_id: "sevt_x", result: "allow" });
      apply(toolUse("sevt_x", "ask"));
      expect(store.verdict("sevt_x")).toBe("allow");
      apply(toolUse("sevt_y", "ask"));
      store.setStatus("sevt_y", "held");
      expect(store.counts().pending).toBe(1);
      apply({ type: "user.tool_confirmation", id: "sevt_d", tool_use_id: "sevt_y", result: "deny" });
      expect(store.call("sevt_y")?.status).toBe("queued");
      expect(store.counts().pending).toBe(0);
    }));

  test("end_turn arms the idle exit; requires_action does not; a new tool use or running disarms it", () =>
    withStore((store, apply) => {
      apply({ type: "session.status_idle", id: "sevt_1", stop_reason: { type: "requires_action", event_ids: [] } });
      expect(store.load()?.idle_deadline).toBeNull();
      apply({ type: "session.status_idle", id: "sevt_2", stop_reason: { type: "end_turn" } });
      expect(store.load()?.idle_deadline).toBe(NOW + IDLE_EXIT_MS);
      apply(toolUse("sevt_3"));
      expect(store.load()?.idle_deadline).toBeNull();
      apply({ type: "session.status_idle", id: "sevt_4", stop_reason: { type: "end_turn" } });
      apply({ type: "session.status_running", id: "sevt_5" });
      expect(store.load()?.idle_deadline).toBeNull();
    }));

  test("terminated and deleted end the work; custom tools and other events do nothing", () =>
    withStore((store, apply) => {
      expect(apply({ type: "agent.custom_tool_use", id: "sevt_c", name: "lookup", input: {} })).toEqual({
        kind: "none",
      });
      expect(apply({ type: "agent.message", id: "sevt_m", content: [] })).toEqual({ kind: "none" });
      expect(store.nextCall()).toBeUndefined();
      expect(apply({ type: "session.status_terminated", id: "sevt_t" })).toEqual({ kind: "end", reason: "terminated" });
      expect(apply({ type: "session.deleted", id: "sevt_d" })).toEqual({ kind: "end", reason: "session deleted" });
    }));

  test("the work row keeps no secret: the stored work has no secret, the summary no credential", () =>
    withStore((store) => {
      const row = store.load();
      expect(JSON.parse(row?.work ?? "{}").secret).toBeNull();
      expect(store.credentials()).toMatchObject({ sessionsToken: "sk-ant-req-secret-token" });
    }));
});

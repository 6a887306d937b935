/**
 * How one session event changes a runner's state (protocol §3), whether it came from the stream or
 * the history: the store's writes are idempotent by id, so an event seen twice changes nothing.
 */
import type { SessionEvent } from "../../src/managed-agents/protocol.ts";
import { IDLE_EXIT_MS } from "../../src/managed-agents/runner/timings.ts";
import type { RunnerStore } from "./store.ts";

export type EventEffect =
  /** Nothing for the runner to do now. */
  | { kind: "none" }
  /** A tool call may be ready (a tool use, a verdict). */
  | { kind: "calls" }
  | { kind: "end"; reason: string };

export function applySessionEvent(store: RunnerStore, event: SessionEvent, now: number): EventEffect {
  switch (event.type) {
    case "agent.tool_use":
      // `allow` when absent; kept as it came otherwise (the gate decides).
      if (!store.addCall(event.id, event.name, event.input, event.evaluated_permission ?? "allow")) {
        return { kind: "none" };
      }
      store.setIdleDeadline(null);
      return { kind: "calls" };
    case "agent.custom_tool_use":
      // Custom tools are the client application's: the runner posts nothing for them.
      store.setIdleDeadline(null);
      return { kind: "none" };
    case "user.tool_confirmation":
      store.addVerdict(event.tool_use_id, event.result);
      store.releaseHeld();
      return { kind: "calls" };
    case "user.tool_result":
      store.markAnswered(event.tool_use_id, now);
      return { kind: "none" };
    case "session.status_running":
      // Unconfirmed whether a running session should disarm the idle exit: disarming is the safe
      // side (a session that runs again is not idle, and the next end_turn arms it anew).
      store.setIdleDeadline(null);
      return { kind: "none" };
    case "session.status_idle":
      if (event.stop_reason.type === "end_turn" && store.load()?.idle_deadline == null) {
        store.setIdleDeadline(now + IDLE_EXIT_MS);
      }
      return { kind: "none" };
    case "session.status_terminated":
      return { kind: "end", reason: "terminated" };
    case "session.deleted":
      return { kind: "end", reason: "session deleted" };
    default:
      return { kind: "none" };
  }
}

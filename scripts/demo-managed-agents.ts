/**
 * `npm run demo:managed-agents`: a Claude Managed Agents session whose tool calls run in Tether,
 * end to end on this machine. Anthropic's API is not reachable from here, so its side is played by
 * Tether's API stand-in (test/stand-ins/anthropic-api-stand-in.ts, which follows the documented
 * self-hosted worker protocol): it queues the session's work, signs and delivers the webhook, and
 * streams the agent's tool uses as the real API would. Tether runs as it would in production: the
 * edge in workerd (`wrangler dev`), an environment in webhook mode created through the admin API,
 * the session runner claiming the work and answering every tool use from the session's sandbox.
 *
 * It prints each tool use and the result Tether posted back, then the operators' view, and keeps
 * running (Ctrl-C stops everything) so the admin endpoints can be explored.
 */
import { AdminApi, AdminApiError } from "../src/cli/admin-connection.ts";
import {
  type AnthropicApiStandIn,
  type StoredEvent,
  startAnthropicApiStandIn,
} from "../test/stand-ins/anthropic-api-stand-in.ts";
import { adminToken, EDGE, onStop, startLocalEdge, stopAll, stopOnSignals } from "./local-edge.ts";

const ENVIRONMENT = "demo-agents";

interface Step {
  say: string;
  name: string;
  input: Record<string, unknown>;
  permission?: string;
  /** The client application's verdict on an `ask` tool use. */
  verdict?: "allow" | "deny";
}

const STEPS: Step[] = [
  {
    say: "write a file",
    name: "write",
    input: { file_path: "notes/todo.md", content: "# Plan\n- TODO: read the logs\n- TODO: fix the build\n" },
  },
  { say: "read it back", name: "read", input: { file_path: "notes/todo.md" } },
  {
    say: "edit one line",
    name: "edit",
    input: { file_path: "notes/todo.md", old_string: "fix the build", new_string: "ship it" },
  },
  { say: "run a command", name: "bash", input: { command: "cd notes && wc -l todo.md && ls" } },
  { say: "find files", name: "glob", input: { pattern: "**/*.md" } },
  { say: "search them", name: "grep", input: { pattern: "TODO" } },
  { say: "a failing command is an error result", name: "bash", input: { command: "ls /no/such/dir" } },
  {
    say: "a call the agent's policy says to ask about, approved by the user",
    name: "bash",
    input: { command: "echo approved && date +%Y" },
    permission: "ask",
    verdict: "allow",
  },
];

async function main(): Promise<void> {
  stopOnSignals();
  const admin = new AdminApi(EDGE, adminToken());
  await startLocalEdge();
  const api = await startAnthropicApiStandIn();
  onStop(() => api.close());
  console.log(`\nAnthropic API stand-in on ${api.url}`);

  const environment = api.createEnvironment({ webhookUrl: `${EDGE}/managed-agents/${ENVIRONMENT}/webhook` });
  const body = {
    name: ENVIRONMENT,
    environment_id: environment.id,
    environment_key: environment.key,
    api_base_url: api.url,
    mode: "webhook",
    webhook_secret: environment.webhookSecret,
  };
  // A previous run's environment points at a stand-in that is gone: replace it.
  await admin.call("DELETE", `/admin/environments/${ENVIRONMENT}`).catch((error: unknown) => {
    if (!(error instanceof AdminApiError) || error.status !== 404) throw error;
  });
  const created = (await admin.call("POST", "/admin/environments", body)) as { webhook_url?: string };
  console.log(`Tether environment "${ENVIRONMENT}" (webhook mode): Anthropic delivers to ${created.webhook_url}\n`);

  const session = api.createSession(environment.id);
  console.log(`session ${session.sessionId} queued as work ${session.workId}; the webhook wakes the edge\n`);
  for (const step of STEPS) await runStep(api, session.sessionId, step);

  console.log("\nthe agent's turn ends and the session is terminated: the edge stops the work");
  api.terminate(session.sessionId);
  await until(() => api.work(session.workId).state === "stopped", 30_000, "the work to stop");
  console.log(`work ${session.workId}: ${api.work(session.workId).state}\n`);

  const view = (await admin.call("GET", `/admin/environments/${ENVIRONMENT}/sessions/${session.workId}`)) as {
    toolCalls?: unknown[];
    sandboxId?: string;
  };
  console.log(`Operators see the session (${view.toolCalls?.length ?? 0} tool calls) and its sandbox ${view.sandboxId}:
  curl -s -H 'authorization: Bearer <TETHER_ADMIN_TOKEN from .dev.vars>' ${EDGE}/admin/environments/${ENVIRONMENT}
  curl -s -H 'authorization: Bearer <TETHER_ADMIN_TOKEN from .dev.vars>' ${EDGE}/admin/environments/${ENVIRONMENT}/sessions/${session.workId}
  curl -s -H 'authorization: Bearer <TETHER_ADMIN_TOKEN from .dev.vars>' ${EDGE}/admin/sandboxes/${view.sandboxId}

Ctrl-C stops the edge and the stand-in.`);
}

async function runStep(api: AnthropicApiStandIn, sessionId: string, step: Step): Promise<void> {
  const [use] = api.pushToolUses(sessionId, [
    { name: step.name, input: step.input, ...(step.permission ? { permission: step.permission } : {}) },
  ]);
  if (!use) throw new Error("the stand-in did not record the tool use");
  console.log(`agent → ${step.name} ${JSON.stringify(step.input)}   (${step.say})`);
  if (step.verdict) {
    console.log(`  user → ${step.verdict}`);
    api.confirm(sessionId, use.id, step.verdict);
  }
  const result = await untilValue(() => resultFor(api.posted(sessionId), use.id), 30_000, `a result for ${use.id}`);
  const text = (result.content as { text?: string }[] | undefined)?.map((block) => block.text ?? "").join("") ?? "";
  const shown = text.replace(/\n+$/, "").split("\n").join("\n          ");
  console.log(`tether ← ${result.is_error ? "[is_error] " : ""}${shown}\n`);
}

function resultFor(posted: readonly StoredEvent[], toolUseId: string): (StoredEvent & Record<string, unknown>) | null {
  const found = posted.find(
    (event) => event.type === "user.tool_result" && "tool_use_id" in event && event.tool_use_id === toolUseId,
  );
  return (found as (StoredEvent & Record<string, unknown>) | undefined) ?? null;
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  await untilValue(() => (condition() ? true : null), ms, what);
}

async function untilValue<T>(value: () => T | null, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = value();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});

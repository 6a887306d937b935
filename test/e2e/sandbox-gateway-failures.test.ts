/**
 * Gateway sandboxes when their executor's gateway is not there: gone before a call, lost during
 * one, a call cancelled by its caller, and pinning (a sandbox never moves to another instance
 * announcing the same executor). Real edge, in-process gateways, TEST executors
 * (test/helpers/test-executor-upstream.ts) with real bash.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { type ExecutorGateway, startExecutorGateway } from "../helpers/executor-gateway.ts";
import { createTunnel, type TunnelTokens } from "../helpers/mcp-client.ts";
import { type Created, eventually, sandboxEdge } from "./sandbox-helpers.ts";

const api = sandboxEdge();
const gateways: ExecutorGateway[] = [];

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.cleanup()));
});

async function tunnelWithGateway(name: string, instance: string): Promise<[TunnelTokens, ExecutorGateway]> {
  const tunnel = await createTunnel(api.edge(), name);
  const gateway = await startExecutorGateway(api.edge(), name, tunnel.gatewayToken, { instance });
  gateways.push(gateway);
  return [tunnel, gateway];
}

const admin = (path: string, init: RequestInit = {}) => api.call(path, api.edge().adminToken, init);
const backendOn = (tunnel: string) => ({ type: "gateway", tunnel, executor: "main" });

/** Starts a bash call answered as NDJSON; resolves once its first output arrived. */
async function startCall(sandbox: Created, command: string, signal?: AbortSignal) {
  const res = await api.call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ type: "tool_use", id: "tu_long", name: "bash", input: { command } }),
    ...(signal ? { signal } : {}),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Record<string, unknown>[] = [];
  let buffered = "";
  const next = async (until: (event: Record<string, unknown>) => boolean) => {
    for (;;) {
      const line = buffered.indexOf("\n");
      if (line >= 0) {
        const event = JSON.parse(buffered.slice(0, line)) as Record<string, unknown>;
        buffered = buffered.slice(line + 1);
        events.push(event);
        if (until(event)) return event;
        continue;
      }
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended; events: ${JSON.stringify(events)}`);
      buffered += value;
    }
  };
  await next((event) => event.event === "output");
  return { next, reader };
}

function alive(pid: number): boolean {
  if (pid <= 1) throw new Error(`refusing to probe pid ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("gateway gone before a call: the tool call is a prompt is_error naming the cause, files answer 503 + Retry-After, deletion is recorded", async () => {
  const [tunnelTokens, gateway] = await tunnelWithGateway("gone", "gone-a");
  const sandbox = await api.create({ backend: backendOn("gone"), files: { "kept.txt": "still here" } });
  await gateway.stop();

  const ran = await api.bash(sandbox, "echo never");
  expect(ran.isError).toBe(true);
  expect(ran.meta.error_kind).toBe("gateway_unavailable");
  expect(ran.text).toContain('the gateway serving executor "main" on tunnel "gone" is not connected');

  const file = await api.call(`/v1/sandboxes/${sandbox.id}/files/workspace/kept.txt`, sandbox.token);
  expect(file.status).toBe(503);
  expect(file.headers.get("retry-after")).toMatch(/^\d+$/);

  const details = (await (await admin(`/admin/sandboxes/${sandbox.id}`)).json()) as {
    gateway: { connected: boolean; instance: string; workspace_bytes: number | null; workspace_error: string };
  };
  expect(details.gateway).toMatchObject({ connected: false, instance: "gone-a", workspace_bytes: null });
  expect(details.gateway.workspace_error).toContain("is not connected");

  // Deleting still deletes the sandbox; the workspace left on the machine is recorded for operators.
  expect((await api.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token, { method: "DELETE" })).status).toBe(204);
  expect(existsSync(join(gateway.root, sandbox.id, "workspace", "kept.txt"))).toBe(true);
  const tunnel = (await (await admin("/admin/tunnels/gone")).json()) as {
    pendingWorkspaceDeletions: { sandboxId: string; instance: string; reason: string }[];
  };
  expect(tunnel.pendingWorkspaceDeletions).toEqual([
    expect.objectContaining({
      sandboxId: sandbox.id,
      instance: "gone-a",
      reason: expect.stringContaining("not connected"),
    }),
  ]);

  // The machine comes back (same instance, same directory): the owed deletion is made then.
  const back = await startExecutorGateway(api.edge(), "gone", tunnelTokens.gatewayToken, {
    instance: "gone-a",
    root: gateway.root,
  });
  gateways.push(back);
  await eventually(async () => !existsSync(join(gateway.root, sandbox.id)), 20_000);
  await eventually(async () => {
    const view = (await (await admin("/admin/tunnels/gone")).json()) as { pendingWorkspaceDeletions: unknown[] };
    return view.pendingWorkspaceDeletions.length === 0;
  }, 20_000);
});

test("gateway lost during a call: the running call ends with a prompt is_error, and the command is stopped", async () => {
  const [tunnel, gateway] = await tunnelWithGateway("lost", "lost-a");
  const sandbox = await api.create({ backend: backendOn("lost") });
  const call = await startCall(sandbox, "echo started; sleep 60; echo finished");
  const pid = gateway.executor.started.at(-1)!;
  expect(alive(pid)).toBe(true);

  // Revoking the gateway's token closes its socket at the edge at once: the gateway is gone.
  const revoked = await admin(`/admin/tunnels/lost/tokens/${tunnel.gatewayTokenId}`, { method: "DELETE" });
  expect(revoked.status).toBe(200);
  const result = (await call.next((event) => event.event === "result")) as {
    result: { is_error: boolean; content: { text: string }[] };
    meta: { error_kind: string };
  };
  expect(result.result.is_error).toBe(true);
  expect(result.meta.error_kind).toBe("gateway_unavailable");
  expect(result.result.content[0]?.text).toContain('executor "main" on tunnel "lost"');
  await eventually(async () => !alive(pid), 10_000);
});

test("a caller that goes away cancels the running call on the executor", async () => {
  const [, gateway] = await tunnelWithGateway("cancel", "cancel-a");
  const sandbox = await api.create({ backend: backendOn("cancel") });
  const abort = new AbortController();
  const call = await startCall(sandbox, "echo started; sleep 60", abort.signal);
  const pid = gateway.executor.started.at(-1)!;
  expect(alive(pid)).toBe(true);
  abort.abort();
  await call.reader.cancel().catch(() => {});
  // The edge notices a vanished HTTP client when it next writes to it (at the latest the next
  // heartbeat, 10 s): the cancellation reaches the executor then.
  await eventually(async () => !alive(pid), 30_000);
  // The sandbox is free for the next call.
  expect((await api.bash(sandbox, "echo next")).text).toBe("next\n");
});

test("a sandbox stays on the executor instance that holds its workspace", async () => {
  const [tunnel, first] = await tunnelWithGateway("pin", "pin-a");
  const second = await startExecutorGateway(api.edge(), "pin", tunnel.gatewayToken, { instance: "pin-b" });
  gateways.push(second);
  const sandbox = await api.create({ backend: backendOn("pin"), files: { "mark.txt": "x" } });
  const details = (await (await admin(`/admin/sandboxes/${sandbox.id}`)).json()) as { gateway: { instance: string } };
  const [home, other] = details.gateway.instance === "pin-a" ? [first, second] : [second, first];
  for (let i = 0; i < 6; i++) {
    expect((await api.bash(sandbox, "cat mark.txt")).text).toBe("x");
  }
  const touched = (gateway: ExecutorGateway) =>
    gateway.executor.requests.filter((request) => request.path.includes(`/sandboxes/${sandbox.id}`)).length;
  expect(touched(home)).toBeGreaterThanOrEqual(8);
  expect(touched(other)).toBe(0);

  // Its gateway gone, the sandbox waits for it rather than move to an empty workspace elsewhere.
  await home.stop();
  const ran = await api.bash(sandbox, "cat mark.txt");
  expect(ran.isError).toBe(true);
  expect(ran.meta.error_kind).toBe("gateway_unavailable");
  expect(ran.text).toContain(`instance ${home.executor.announcement.instance}`);
  expect(touched(other)).toBe(0);
});

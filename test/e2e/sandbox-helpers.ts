/** Helpers for sandbox tests against the real edge over HTTP (startEdge). */
import type { RunningEdge } from "../helpers/edge.ts";

export interface Created {
  id: string;
  token: string;
  created: boolean;
  ttl_seconds: number;
  endpoints: Record<string, string>;
}

export interface ToolResultJson {
  content: Array<{
    type: "tool_result";
    tool_use_id: string;
    content: Array<{ type: "text"; text: string }>;
    is_error: boolean;
  }>;
  meta: Array<Record<string, unknown>>;
}

export function api(edge: RunningEdge) {
  const call = (
    path: string,
    token: string | null,
    init: RequestInit & { duplex?: "half" } = {},
  ): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(`${edge.url}${path}`, { ...init, headers, signal: init.signal ?? AbortSignal.timeout(60_000) });
  };
  const create = async (body: Record<string, unknown> = {}, token = edge.adminToken): Promise<Created> => {
    const res = await call("/v1/sandboxes", token, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Created;
  };
  const toolCalls = (sandbox: Created, blocks: unknown, accept = "application/json"): Promise<Response> =>
    call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
      method: "POST",
      headers: { "content-type": "application/json", accept },
      body: JSON.stringify(blocks),
    });
  const run = async (sandbox: Created, name: string, input: Record<string, unknown>) => {
    const res = await toolCalls(sandbox, {
      type: "tool_use",
      id: `tu_${crypto.randomUUID().slice(0, 8)}`,
      name,
      input,
    });
    if (res.status !== 200) throw new Error(`tool-calls failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as ToolResultJson;
    const result = body.content[0]!;
    return { text: result.content.map((c) => c.text).join(""), isError: result.is_error, meta: body.meta[0]! };
  };
  const bash = (sandbox: Created, command: string) => run(sandbox, "bash", { command });
  return { call, create, toolCalls, run, bash };
}

/** Polls `check` every `everyMs` until it returns true; fails after `limitMs` (tests never hang). */
export async function eventually(check: () => Promise<boolean>, limitMs = 20_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

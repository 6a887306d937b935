/**
 * The sandbox HTTP API as tests call it, over any transport: inside workerd through the edge's own
 * fetch (test/workers/sandbox-helpers.ts), or over the network to a started edge
 * (test/e2e/sandbox-helpers.ts). `call` adds the bearer token; the rest is the same everywhere.
 */

export interface Created {
  id: string;
  token: string;
  token_id: string;
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

export interface ToolRun {
  text: string;
  isError: boolean;
  meta: Record<string, unknown>;
}

/** `duplex: "half"` lets Node's fetch send a streamed body. */
export type CallInit = RequestInit & { duplex?: "half" };

/** Sends a request to the edge at `path`, with `token` as the bearer token when given. */
export type EdgeCall = (path: string, token: string | null, init?: CallInit) => Promise<Response>;

export function sandboxApi(call: EdgeCall, adminToken: () => string) {
  /** Creates a sandbox (or a new token for an existing id); anything but 201/200 fails the test. */
  const create = async (body: Record<string, unknown> = {}, token = adminToken()): Promise<Created> => {
    const res = await call("/v1/sandboxes", token, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
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

  /** Runs one tool call and returns its result's text, error flag and meta (JSON answer). */
  const run = async (sandbox: Created, name: string, input: Record<string, unknown>): Promise<ToolRun> => {
    const id = `tu_${crypto.randomUUID().slice(0, 8)}`;
    const res = await toolCalls(sandbox, { type: "tool_use", id, name, input });
    if (res.status !== 200) throw new Error(`tool-calls failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as ToolResultJson;
    const result = body.content[0]!;
    return { text: result.content.map((c) => c.text).join(""), isError: result.is_error, meta: body.meta[0]! };
  };

  const bash = (sandbox: Created, command: string): Promise<ToolRun> => run(sandbox, "bash", { command });

  return { call, create, toolCalls, run, bash };
}

export type SandboxApi = ReturnType<typeof sandboxApi>;

/** Adds the bearer token to a request's headers (Authorization, as orchestrators send it). */
export function withBearer(init: RequestInit, token: string | null): Headers {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return headers;
}

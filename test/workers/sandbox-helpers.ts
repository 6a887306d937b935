/**
 * Helpers for sandbox tests inside workerd: requests go through the edge's real routes
 * (`exports.default.fetch`), with the admin token the vitest config binds.
 */
import { exports } from "cloudflare:workers";

export const ADMIN = "test-admin-token";

export interface Created {
  id: string;
  token: string;
  created: boolean;
  ttl_seconds: number;
  endpoints: Record<string, string>;
}

export function call(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return exports.default.fetch(`http://edge${path}`, { ...init, headers });
}

export async function createSandbox(body: Record<string, unknown> = {}, token = ADMIN): Promise<Created> {
  const res = await call("/v1/sandboxes", token, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Created;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
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

export async function toolCalls(sandbox: Created, blocks: unknown, accept = "application/json"): Promise<Response> {
  return call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
    method: "POST",
    headers: { "content-type": "application/json", accept },
    body: JSON.stringify(blocks),
  });
}

export async function bash(
  sandbox: Created,
  command: string,
  id = `tu_${crypto.randomUUID().slice(0, 8)}`,
): Promise<{ text: string; isError: boolean; meta: Record<string, unknown> }> {
  const res = await toolCalls(sandbox, { type: "tool_use", id, name: "bash", input: { command } });
  if (res.status !== 200) throw new Error(`tool-calls failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as ToolResultJson;
  const result = body.content[0]!;
  return { text: result.content.map((c) => c.text).join(""), isError: result.is_error, meta: body.meta[0]! };
}

/** The first sandbox call loads the whole sandbox module graph (seconds, cold): pay it outside the tests. */
export async function warmUp(): Promise<void> {
  const sandbox = await createSandbox();
  await bash(sandbox, "true");
}

/** A file body as text (decoded from bytes: file responses are application/octet-stream). */
export async function textOf(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

/**
 * A test-only Worker run beside the edge (test/helpers/edge.ts `workers`), bound to the edge's own
 * Sandbox objects, so tests make the `toolsetCall` RPC a Managed Agents session runner makes:
 *   POST /test/sandbox/ID/toolset   {toolUse, options?} → the ToolsetCallOutcome (400: its refusal)
 */
import type { Sandbox } from "../../durable-objects/sandbox.ts";

interface Env {
  SANDBOX: DurableObjectNamespace<Sandbox>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const match = /^\/test\/sandbox\/([^/]+)\/toolset$/.exec(new URL(request.url).pathname);
    if (request.method !== "POST" || !match) return new Response("not found", { status: 404 });
    const body = (await request.json()) as {
      toolUse: { id: string; name: string; input: unknown };
      options?: { extraRoots?: string[] };
    };
    const sandbox = env.SANDBOX.get(env.SANDBOX.idFromName(decodeURIComponent(match[1] ?? "")));
    const result = await sandbox.toolsetCall({ kind: "admin" }, body.toolUse, body.options);
    return result.ok ? Response.json(result.value) : Response.json({ error: result.error }, { status: 400 });
  },
};

import { type Context, Hono } from "hono";
import { type Caller, noSuchSandbox } from "../../durable-objects/sandbox/caller.ts";
import {
  CreateSandboxSchema,
  generateSandboxId,
  MAX_CREATE_BODY_BYTES,
  resolveSettings,
  SANDBOX_ID_PATTERN,
} from "../../durable-objects/sandbox/options.ts";
import type { Sandbox } from "../../durable-objects/sandbox.ts";
import { recordOperatorAction } from "../../src/audit/operator-action.ts";
import { unwrap } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { readJsonBody } from "../../src/http/read-bounded-body.ts";
import {
  cutOffResponse,
  guardMcpStream,
  guardStream,
  mcpCutOffResponse,
  toolsCallId,
} from "../../src/sandbox/tool-calls/cut-off.ts";
import { parseToolCallBody, TOOL_CALL_BODY_LIMIT } from "../../src/sandbox/tool-calls/request-body.ts";
import { negotiateToolCallsFormat } from "../../src/sandbox/tool-calls/respond.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv } from "../env.ts";
import { checkBackend, creatorCaller, sandboxCaller } from "./sandbox-auth.ts";
import { sandboxStub } from "./sandbox-stubs.ts";

/**
 * The sandbox API (`/v1/sandboxes`). The edge authenticates, validates the request and hands it to
 * the sandbox's Durable Object (named by the sandbox id) through typed RPC; bodies and responses
 * stream through untouched.
 */
type App = EdgeEnv;
type Ctx = Context<App>;

export const sandboxesRoutes = new Hono<App>();

sandboxesRoutes.post("/", async (c) => {
  const creator = await creatorCaller(c.req.raw.headers, c.env);
  const body = await readJsonBody(c.req.raw, MAX_CREATE_BODY_BYTES, "create body");
  const settings = resolveSettings(parseInput(CreateSandboxSchema, body, "sandbox request"), generateSandboxId);
  checkBackend(creator, settings.backend);
  const outcome = unwrap(await stub(c, settings.id).create(creator.caller, settings));
  return c.json(
    {
      id: settings.id,
      token: outcome.token,
      token_id: outcome.tokenId,
      created: outcome.created,
      ttl_seconds: outcome.ttlSeconds,
      endpoints: endpoints(c, settings.id),
    },
    outcome.created ? 201 : 200,
  );
});

sandboxesRoutes.get("/:id", async (c) => {
  const { id, caller, sandbox } = await target(c);
  const info = unwrap(await sandbox.describe(caller));
  return c.json({ ...info, endpoints: endpoints(c, id) });
});

sandboxesRoutes.delete("/:id", async (c) => {
  const { id, caller, sandbox } = await target(c);
  unwrap(await sandbox.destroy(caller));
  // The admin token deleting a sandbox is an operator action (an orchestrator's own deletions are not).
  if (caller.kind === "admin") {
    await recordOperatorAction(c.env, { kind: "admin-token" }, { action: "sandbox.deleted", sandbox: id });
  }
  return c.body(null, 204);
});

sandboxesRoutes.get("/:id/tokens", async (c) => {
  const { caller, sandbox } = await target(c);
  const tokens = unwrap(await sandbox.listTokens(caller));
  return c.json({ tokens: tokens.map((token) => ({ id: token.id, created_at: token.createdAt })) });
});

sandboxesRoutes.delete("/:id/tokens/:tokenId", async (c) => {
  const { caller, sandbox } = await target(c);
  unwrap(await sandbox.revokeToken(caller, c.req.param("tokenId")));
  return c.body(null, 204);
});

sandboxesRoutes.put("/:id/files/*", async (c) => {
  const { caller, sandbox } = await target(c);
  const body = c.req.raw.body ?? new Response("").body!;
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  const length = Number.isFinite(declared) ? declared : null;
  const written = unwrap(await sandbox.putFile(caller, filePath(c), body, length));
  return c.json(written, written.created ? 201 : 200);
});

sandboxesRoutes.get("/:id/files/*", async (c) => {
  const { caller, sandbox } = await target(c);
  const file = unwrap(await sandbox.getFile(caller, filePath(c)));
  // A stream that crossed RPC has no length of its own: restore it, so clients see Content-Length.
  const length = Number(file.headers.get("content-length") ?? Number.NaN);
  if (!file.body || !Number.isSafeInteger(length)) return file;
  return new Response(file.body.pipeThrough(new FixedLengthStream(length)), file);
});

sandboxesRoutes.delete("/:id/files/*", async (c) => {
  const { caller, sandbox } = await target(c);
  unwrap(await sandbox.deleteFile(caller, filePath(c)));
  return c.body(null, 204);
});

sandboxesRoutes.get("/:id/export.tar", async (c) => {
  const { id, caller, sandbox } = await target(c);
  const tar = unwrap(await sandbox.exportTar(caller));
  return new Response(tar, {
    headers: { "content-type": "application/x-tar", "content-disposition": `attachment; filename="${id}.tar"` },
  });
});

sandboxesRoutes.post("/:id/tool-calls", async (c) => {
  const { caller, sandbox } = await target(c);
  const blocks = parseToolCallBody(await readJsonBody(c.req.raw, TOOL_CALL_BODY_LIMIT, "tool-calls body"));
  const format = negotiateToolCallsFormat(c.req.header("accept") ?? null);
  // The object answers refusals as values; a throw here is the platform cutting the call off.
  const answer = await sandbox.toolCalls(caller, blocks, format).catch((error: unknown) => error as Error);
  if (answer instanceof Error) return cutOffResponse(blocks, format, answer);
  return guardStream(unwrap(answer), blocks, format);
});

sandboxesRoutes.all("/:id/mcp", async (c) => {
  const { caller, sandbox } = await target(c);
  // A copy of a POST's body names the tools/call to answer if the platform cuts it off.
  const copy = c.req.method === "POST" ? c.req.raw.clone() : undefined;
  const answer = await sandbox.mcp(caller, c.req.raw).catch((error: unknown) => error as Error);
  const id = copy ? await toolsCallId(copy) : undefined;
  if (answer instanceof Error) {
    if (id === undefined) throw answer;
    return mcpCutOffResponse(id, answer);
  }
  const response = unwrap(answer);
  return id === undefined ? response : guardMcpStream(response, id);
});

function stub(c: Ctx, id: string): DurableObjectStub<Sandbox> {
  return sandboxStub(c.env, id);
}

/**
 * The sandbox a request names and who is calling: the token is checked first (401 before anything
 * else), then an id that could never exist is simply not found.
 */
async function target(c: Ctx): Promise<{ id: string; caller: Caller; sandbox: DurableObjectStub<Sandbox> }> {
  const id = c.req.param("id") ?? "";
  const caller = await sandboxCaller(c.req.raw.headers, c.env, id);
  if (!SANDBOX_ID_PATTERN.test(id)) throw noSuchSandbox();
  return { id, caller, sandbox: stub(c, id) };
}

/** `/v1/sandboxes/:id/files/<path>` names the sandbox path `/<path>` (percent-decoded per segment). */
function filePath(c: Ctx): string {
  const prefix = `/${c.req.param("id")}/files/`;
  const raw = new URL(c.req.url).pathname;
  const at = raw.indexOf(prefix);
  const rest = at >= 0 ? raw.slice(at + prefix.length) : "";
  try {
    return `/${rest.split("/").map(decodeURIComponent).join("/")}`;
  } catch {
    throw new TetherError("bad_request", "file path is not valid percent-encoding");
  }
}

function endpoints(c: Ctx, id: string): Record<string, string> {
  const base = `${new URL(c.req.url).origin}/v1/sandboxes/${id}`;
  return {
    sandbox: base,
    tool_calls: `${base}/tool-calls`,
    mcp: `${base}/mcp`,
    files: `${base}/files/`,
    export: `${base}/export.tar`,
  };
}

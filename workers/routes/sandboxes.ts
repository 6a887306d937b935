import { type Context, Hono } from "hono";
import type { Sandbox } from "../../durable-objects/sandbox.ts";
import {
  CreateSandboxSchema,
  generateSandboxId,
  MAX_CREATE_BODY_BYTES,
  resolveSettings,
  SANDBOX_ID_PATTERN,
} from "../../durable-objects/sandbox/options.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { formatIssues } from "../../src/sandbox/tools/format-issues.ts";
import type { Env } from "../env.ts";
import { readJsonBody } from "./read-json-body.ts";
import { creatorCaller, noSuchSandbox, sandboxCaller } from "./sandbox-auth.ts";
import { toolCallsResponse } from "./tool-calls-response.ts";

/**
 * The sandbox API (`/v1/sandboxes`). The edge authenticates, validates the request and hands it to
 * the sandbox's Durable Object (named by the sandbox id) through typed RPC; bodies and responses
 * stream through untouched.
 */
type App = { Bindings: Env };
type Ctx = Context<App>;

export const sandboxesRoutes = new Hono<App>();

sandboxesRoutes.post("/", async (c) => {
  const caller = await creatorCaller(c.req.raw.headers, c.env);
  const parsed = CreateSandboxSchema.safeParse(await readJsonBody(c.req.raw, MAX_CREATE_BODY_BYTES, "create body"));
  if (!parsed.success) throw new TetherError("bad_request", `invalid sandbox request: ${formatIssues(parsed.error.issues)}`);
  const settings = resolveSettings(parsed.data, generateSandboxId);
  const outcome = await stub(c, settings.id).create(caller, settings);
  return c.json(
    { id: settings.id, token: outcome.token, created: outcome.created, ttl_seconds: outcome.ttlSeconds, endpoints: endpoints(c, settings.id) },
    outcome.created ? 201 : 200,
  );
});

sandboxesRoutes.get("/:id", async (c) => {
  const id = sandboxId(c);
  const info = await stub(c, id).describe(await sandboxCaller(c.req.raw.headers, c.env, id));
  return c.json({ ...info, endpoints: endpoints(c, id) });
});

sandboxesRoutes.delete("/:id", async (c) => {
  const id = sandboxId(c);
  await stub(c, id).destroy(await sandboxCaller(c.req.raw.headers, c.env, id));
  return c.body(null, 204);
});

sandboxesRoutes.put("/:id/files/*", async (c) => {
  const id = sandboxId(c);
  const caller = await sandboxCaller(c.req.raw.headers, c.env, id);
  const body = c.req.raw.body ?? new Response("").body!;
  const length = Number(c.req.header("content-length") ?? Number.NaN);
  const written = await stub(c, id).putFile(caller, filePath(c), body, Number.isFinite(length) ? length : null);
  return c.json(written, written.created ? 201 : 200);
});

sandboxesRoutes.get("/:id/files/*", async (c) => {
  const id = sandboxId(c);
  return stub(c, id).getFile(await sandboxCaller(c.req.raw.headers, c.env, id), filePath(c));
});

sandboxesRoutes.delete("/:id/files/*", async (c) => {
  const id = sandboxId(c);
  await stub(c, id).deleteFile(await sandboxCaller(c.req.raw.headers, c.env, id), filePath(c));
  return c.body(null, 204);
});

sandboxesRoutes.get("/:id/export.tar", async (c) => {
  const id = sandboxId(c);
  const tar = await stub(c, id).exportTar(await sandboxCaller(c.req.raw.headers, c.env, id));
  return new Response(tar, {
    headers: { "content-type": "application/x-tar", "content-disposition": `attachment; filename="${id}.tar"` },
  });
});

sandboxesRoutes.post("/:id/tool-calls", async (c) => {
  const id = sandboxId(c);
  const caller = await sandboxCaller(c.req.raw.headers, c.env, id);
  return toolCallsResponse(c.req.raw, (blocks, format) => stub(c, id).toolCalls(caller, blocks, format));
});

sandboxesRoutes.all("/:id/mcp", async (c) => {
  const id = sandboxId(c);
  const caller = await sandboxCaller(c.req.raw.headers, c.env, id);
  return stub(c, id).mcp(caller, c.req.raw);
});

function stub(c: Ctx, id: string): DurableObjectStub<Sandbox> {
  return c.env.SANDBOX.get(c.env.SANDBOX.idFromName(id));
}

/** The id from the URL; one that could never exist is simply not found. */
function sandboxId(c: Ctx): string {
  const id = c.req.param("id") ?? "";
  if (!SANDBOX_ID_PATTERN.test(id)) throw noSuchSandbox();
  return id;
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

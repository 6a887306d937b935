/**
 * The audit trail's export (admin token only):
 *
 *   GET /admin/audit?since&until&tunnel&sandbox&kind&format=jsonl
 *     → application/x-ndjson, one AuditRecord (src/audit/audit-record.ts) per line
 *
 * Sources, in this order, each newest first: operator actions (the Registry), each tunnel's calls,
 * each sandbox's tool calls. `tunnel`/`sandbox` keep only that tunnel's / sandbox's records (calls
 * and operator actions on it); `kind` keeps one kind; `since` (inclusive) and `until` (exclusive)
 * take ISO 8601 times or epoch milliseconds. The response streams: each source is read a page at
 * a time (by id cursor) as the client reads, so the Worker holds one page, whatever the size.
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../durable-objects/registry.ts";
import { SANDBOX_ID_PATTERN } from "../../durable-objects/sandbox/options.ts";
import {
  type AuditKind,
  AuditKindSchema,
  type AuditRecord,
  operatorActionRecord,
  sandboxCallRecord,
  tunnelCallRecord,
} from "../../src/audit/audit-record.ts";
import { TimeParamSchema } from "../../src/audit/time-param.ts";
import type { Page } from "../../src/audit/trace-query.ts";
import type { RpcResult } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { parseInput } from "../../src/validation/parse-input.ts";
import type { EdgeEnv, Env } from "../env.ts";
import { adminOnly } from "./admin-only.ts";
import { sandboxStub } from "./sandbox-stubs.ts";
import { TUNNEL_NAME_PATTERN, tunnelStub } from "./tunnels.ts";

export const adminAuditRoutes = new Hono<EdgeEnv>();

/** Rows read from a source at a time: what the Worker holds at most (rows with payloads are ≤ ~12 KiB). */
export const EXPORT_PAGE_ROWS = 200;

const AuditExportQuerySchema = z
  .object({
    since: TimeParamSchema.optional(),
    until: TimeParamSchema.optional(),
    tunnel: z.string().regex(TUNNEL_NAME_PATTERN, "not a tunnel name").optional(),
    sandbox: z.string().regex(SANDBOX_ID_PATTERN, "not a sandbox id").optional(),
    kind: AuditKindSchema.optional(),
    format: z.literal("jsonl", { error: 'the only format is "jsonl"' }).default("jsonl"),
  })
  .strict();
type AuditExportQuery = z.infer<typeof AuditExportQuerySchema>;

adminOnly(adminAuditRoutes, "/audit");

adminAuditRoutes.get("/audit", (c) => {
  const query = parseInput(AuditExportQuerySchema, c.req.query(), "audit query");
  if (query.since !== undefined && query.until !== undefined && query.since >= query.until) {
    throw new TetherError("bad_request", "invalid audit query: since must be before until");
  }
  const pages = auditPages(c.env, query);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pages.next();
        if (next.done) {
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(next.value.map((record) => `${JSON.stringify(record)}\n`).join("")));
      },
      async cancel() {
        await pages.return(undefined);
      },
    },
    // One page at a time: the next is read only when the client took this one.
    { highWaterMark: 0 },
  );
  return new Response(body, {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" },
  });
});

/** The export's records, a page at a time, source after source. */
async function* auditPages(env: Env, query: AuditExportQuery): AsyncGenerator<AuditRecord[], void, undefined> {
  const wants = (kind: AuditKind) => query.kind === undefined || query.kind === kind;
  const window = { since: query.since, until: query.until, limit: EXPORT_PAGE_ROWS };
  const reg = registry(env);
  if (wants("operator_action")) {
    const filter = { tunnel: query.tunnel, sandbox: query.sandbox };
    yield* paged((before) => reg.operatorActions({ ...filter, ...window, before }), operatorActionRecord);
  }
  const scoped = query.tunnel !== undefined || query.sandbox !== undefined;
  if (wants("tunnel_call") && (!scoped || query.tunnel !== undefined)) {
    const names = query.tunnel !== undefined ? [query.tunnel] : (await reg.list("tunnel")).map((e) => e.name);
    for (const name of names) {
      const relay = tunnelStub(env, name);
      yield* settledPages(
        (before) => relay.traces({ ...window, before }),
        (row) => tunnelCallRecord(name, row),
      );
    }
  }
  if (wants("sandbox_call") && (!scoped || query.sandbox !== undefined)) {
    const ids = query.sandbox !== undefined ? [query.sandbox] : (await reg.list("sandbox")).map((e) => e.name);
    for (const id of ids) {
      const sandbox = sandboxStub(env, id);
      yield* settledPages(
        (before) => sandbox.traces({ ...window, before }),
        (row) => sandboxCallRecord(id, row),
      );
    }
  }
}

/** Walks a source from its newest row to its oldest by `before` cursor. */
async function* paged<T>(
  read: (before: number | undefined) => Promise<Page<T>>,
  toRecord: (row: T) => AuditRecord,
): AsyncGenerator<AuditRecord[], void, undefined> {
  let before: number | undefined;
  for (;;) {
    const page = await read(before);
    if (page.rows.length > 0) yield page.rows.map(toRecord);
    if (typeof page.next !== "number") return;
    before = page.next;
  }
}

/** The same over an object's RpcResult: a tunnel or sandbox deleted meanwhile (404) simply ends. */
function settledPages<T>(
  read: (before: number | undefined) => Promise<RpcResult<Page<T>>>,
  toRecord: (row: T) => AuditRecord,
): AsyncGenerator<AuditRecord[], void, undefined> {
  return paged(async (before) => {
    const result = await read(before);
    if (result.ok) return result.value;
    if (result.error.code === "not_found") return { rows: [], next: null };
    throw new TetherError(result.error.code, result.error.message);
  }, toRecord);
}

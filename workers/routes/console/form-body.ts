/**
 * Reads and validates a console form post (application/x-www-form-urlencoded). Forms are small,
 * so anything past FORM_LIMIT is refused. Parsing goes through Hono's request,
 * which caches the body: the CSRF check before the route reads the same parsed form.
 */
import type { z } from "zod";
import { readBoundedBody } from "../../../src/http/read-bounded-body.ts";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleContext } from "./render.tsx";

export const FORM_LIMIT = 64 * 1024;

export async function formBody<S extends z.ZodType>(c: ConsoleContext, schema: S, what: string): Promise<z.output<S>> {
  // Read once, bounded (413 past the limit, declared or not), into Hono's body cache, unless a
  // check before the route (CSRF) has read it already through that cache.
  if (Object.keys(c.req.bodyCache).length === 0) {
    const bytes = (await readBoundedBody(c.req.raw, FORM_LIMIT, what)) ?? new Uint8Array();
    // Hono keeps promises of the body there (its type says values).
    Object.assign(c.req.bodyCache, { arrayBuffer: Promise.resolve(bytes.slice().buffer) });
  }
  const form = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(form)) if (typeof value === "string") fields[name] = value;
  return parseInput(schema, fields, what);
}

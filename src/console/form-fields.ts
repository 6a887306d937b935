/**
 * A console form post's fields, read once: the body is read bounded (413 past CONSOLE_FORM_LIMIT,
 * declared or not: console forms are small) into Hono's body cache, so the CSRF check before a
 * route and the route itself parse the same body without reading the request twice.
 */
import type { Context } from "hono";
import { TetherError } from "../errors/tether-error.ts";
import { readBoundedBody } from "../http/read-bounded-body.ts";

/** The largest console form read. */
export const CONSOLE_FORM_LIMIT = 64 * 1024;

/** The form's text fields (files are ignored); `what` names the form in a 413. */
export async function formFields(c: Context, what: string): Promise<Record<string, string>> {
  if (Object.keys(c.req.bodyCache).length === 0) {
    const bytes = (await readBoundedBody(c.req.raw, CONSOLE_FORM_LIMIT, what)) ?? new Uint8Array();
    // Hono keeps promises of the body in its cache (its type says values).
    Object.assign(c.req.bodyCache, { arrayBuffer: Promise.resolve(bytes.slice().buffer) });
  }
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody();
  } catch {
    throw new TetherError("bad_request", "the form could not be read");
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(form)) if (typeof value === "string") fields[name] = value;
  return fields;
}

/**
 * Reads and validates a console form post (application/x-www-form-urlencoded). Forms are small,
 * so anything past FORM_LIMIT is refused before it is read. Parsing goes through Hono's request,
 * which caches the body: the CSRF check before the route reads the same parsed form.
 */
import type { z } from "zod";
import { TetherError } from "../../../src/errors/tether-error.ts";
import { sizeText } from "../../../src/http/read-bounded-body.ts";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleContext } from "./render.tsx";

export const FORM_LIMIT = 64 * 1024;

export async function formBody<S extends z.ZodType>(c: ConsoleContext, schema: S, what: string): Promise<z.output<S>> {
  const length = Number(c.req.header("content-length") ?? Number.NaN);
  if (!(length <= FORM_LIMIT)) {
    throw new TetherError(
      "payload_too_large",
      `${what}: a form of at most ${sizeText(FORM_LIMIT)} with a Content-Length`,
    );
  }
  const form = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(form)) if (typeof value === "string") fields[name] = value;
  return parseInput(schema, fields, what);
}

import type { z } from "zod";
import { TetherError } from "../errors/tether-error.ts";
import { formatIssues } from "./format-issues.ts";

/**
 * Validates input at the HTTP boundary: the parsed value, or a 400 that names each offending field,
 * e.g. `invalid sandbox request: ttl_seconds: too big: expected number to be <=2592000`.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new TetherError("bad_request", `invalid ${what}: ${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}
